"""ARC-AGI-1 and ARC-AGI-2: infer a grid transformation from demonstration pairs and apply it to test inputs."""
