"""Many seeds at once: the experiment of a config, the seed runner, checkpoints and the workdir."""
