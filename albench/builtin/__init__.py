"""albench's own datasets, models, strategies and executors, registered as plugins."""
