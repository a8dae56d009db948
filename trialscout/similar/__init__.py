"""Similar trials ("more related trials"), ranked and explained.

``features`` turns a trial into canonical condition and intervention keys (through the
shared vocabulary), a population (ages, sex) and text; ``index.SimilarIndex`` scores one
or all trials with sparse matrices (TF-IDF text by default, or sentence embeddings from the
optional ``embeddings`` extra); ``explain`` says why each one was picked;
``service.SimilarService`` keeps the index in step with the store.
"""
