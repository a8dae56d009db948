"""ClinicalTrials.gov records: the trial model, the parsers and the readers that feed the store."""
