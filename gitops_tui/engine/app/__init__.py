"""Applications and AppProjects: the model, validation and loading from files."""
