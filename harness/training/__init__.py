"""Training: the optimiser loop, its examples, the train stage (fit, cache, serve), the generator's training, saved adapters."""
