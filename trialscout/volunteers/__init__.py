"""The volunteer registry: members who opt in to hear about trials, with consent records."""
