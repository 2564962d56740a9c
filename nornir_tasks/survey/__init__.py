"""``fellesnett survey``: read the devices of the networks that run today over SSH and
keep what they say in a survey repository (git), with a report of the whole estate."""
