"""Development data: the synthetic data generator (`generate_data`) and the demo tables.

`generate.data_generate` fills a tenant at any scale for load tests and benchmarks;
`demo` holds the names and texts `seed_demo` builds its demo tenant from. Progress is
reported through callbacks, so the commands draw their own progress bars.
"""
