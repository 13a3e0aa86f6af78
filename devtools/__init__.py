"""Developer tooling: the local run, template-driven resource creation, samples. Not deployed."""
