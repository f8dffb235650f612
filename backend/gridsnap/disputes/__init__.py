"""矛盾纠纷随时报: disputes between residents, reported from the field and mediated in confidence."""
