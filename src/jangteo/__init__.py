"""jangteo (장터): a headless community-commerce platform."""
