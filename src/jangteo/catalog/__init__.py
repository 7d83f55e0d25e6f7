"""Catalog: brands, categories, products, variants, stock and Korean search."""
