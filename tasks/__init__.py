"""Small typed units of work that the flows call: instances, evidence, flags, notifications."""
