"""Training: the optimiser loop, its examples, the train stage (fit, cache, use), the generator's training, saved adapters."""
