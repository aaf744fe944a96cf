// preprocessing kernels: no Node dependency
