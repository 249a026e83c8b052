"""skfashion's benchmarks: ``python -m benchmarks [--quick|--full] [NAME ...]``."""
