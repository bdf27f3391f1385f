"""Demo and benchmark data: `seed_dashboard` fills a database with images, tags and platforms at any scale."""
