"""The seeded catalog, generated deterministically: product ``i`` is always the same product."""

from __future__ import annotations

import random
from dataclasses import dataclass

from myclothes.domain.catalog import slugify

CATEGORIES: tuple[tuple[str, str, str, tuple[str, ...], int], ...] = (
    # slug, name, garment, sizes, base price (cents)
    ("t-shirts", "T-Shirts", "tshirt", ("XS", "S", "M", "L", "XL"), 1900),
    ("shirts", "Shirts", "shirt", ("S", "M", "L", "XL"), 3900),
    ("hoodies", "Hoodies", "hoodie", ("S", "M", "L", "XL", "XXL"), 4900),
    ("jackets", "Jackets", "jacket", ("S", "M", "L", "XL"), 8900),
    ("trousers", "Trousers", "trousers", ("28", "30", "32", "34", "36"), 5900),
    ("dresses", "Dresses", "dress", ("XS", "S", "M", "L"), 6900),
    ("skirts", "Skirts", "skirt", ("XS", "S", "M", "L"), 3900),
    ("shorts", "Shorts", "shorts", ("S", "M", "L", "XL"), 2900),
    ("sweaters", "Sweaters", "sweater", ("S", "M", "L", "XL"), 5900),
)
SINGULAR = {
    "T-Shirts": "T-Shirt",
    "Shirts": "Shirt",
    "Hoodies": "Hoodie",
    "Jackets": "Jacket",
    "Dresses": "Dress",
    "Skirts": "Skirt",
    "Sweaters": "Sweater",
}
ADJECTIVES = (
    "Classic",
    "Everyday",
    "Relaxed",
    "Slim",
    "Heritage",
    "Coastal",
    "Urban",
    "Weekend",
    "Essential",
    "Studio",
    "Alpine",
    "Harbour",
    "Meadow",
    "Midnight",
    "Sunday",
    "Trail",
)
MATERIALS = ("Cotton", "Linen", "Wool", "Denim", "Jersey", "Fleece", "Organic Cotton", "Merino", "Twill", "Corduroy")
COLOURS = (
    "black",
    "white",
    "grey",
    "navy",
    "blue",
    "sky",
    "red",
    "burgundy",
    "green",
    "olive",
    "yellow",
    "orange",
    "pink",
    "purple",
    "beige",
    "brown",
)
FITS = ("a relaxed fit", "a tailored fit", "a regular fit", "an oversized fit")
DETAILS = ("reinforced seams", "a soft brushed finish", "recycled trims", "a garment-dyed look", "hidden pockets")


@dataclass(frozen=True, slots=True)
class SeedVariant:
    sku: str
    size: str
    colour: str
    price: int
    stock: int


@dataclass(frozen=True, slots=True)
class SeedProduct:
    index: int
    slug: str
    name: str
    description: str
    category: str
    price: int
    variants: tuple[SeedVariant, ...]


def seed_product(index: int) -> SeedProduct:
    """Product number ``index`` (0-based) of the seeded catalog; same input, same product."""
    rng = random.Random(index * 7919 + 17)
    slug_c, name_c, _garment, sizes, base = CATEGORIES[index % len(CATEGORIES)]
    adjective = rng.choice(ADJECTIVES)
    material = rng.choice(MATERIALS)
    noun = SINGULAR.get(name_c, name_c)
    name = f"{adjective} {material} {noun}"
    slug = f"{slugify(name)}-{index + 1}"
    price = base + rng.randrange(0, 40) * 50
    colours = rng.sample(COLOURS, rng.randint(2, 4))
    variants = []
    for colour in colours:
        for size in sizes:
            roll = rng.random()
            stock = 0 if roll < 0.08 else rng.randint(1, 5) if roll < 0.25 else rng.randint(6, 60)
            extra = 300 if size in {"XXL", "36"} else 0
            sku = f"MC{index + 1:06d}-{colour.upper()}-{size}"
            variants.append(SeedVariant(sku=sku, size=size, colour=colour, price=price + extra, stock=stock))
    description = (
        f"The {name.lower()} in {material.lower()}, cut for {rng.choice(FITS)} with {rng.choice(DETAILS)}. "
        f"Available in {', '.join(colours)}."
    )
    return SeedProduct(index, slug, name, description, slug_c, price, tuple(variants))
