"""Tools around the product (benchmarks, attack runs): never imported by the sidecar itself."""
