"""A cart line's HTML, rendered once per distinct line and kept.

A cart page is shown after every change to the cart, and its lines are the same from one view to the next but the
one that changed. Each line writes about fifteen escaped values; rendering them was most of a 50-line cart page
(docs/performance.md). The line's markup depends only on the line (a frozen value: SKU, name, colour, size, price,
quantity, stock) and on the CSRF input of its two forms, which is the only per-shopper part: the fragment is
rendered with a slot where that input goes, split there, and joined with each shopper's input when it is shown.
"""

from __future__ import annotations

from jinja2 import Environment
from markupsafe import Markup

from myclothes.domain.cart import PricedLine

# Where each form's CSRF input goes. A tag no rendered value can contain: every value is escaped, so "<" from the
# catalog arrives as "&lt;" and only the template's own slot splits the fragment.
CSRF_SLOT = Markup("<csrf-input>")
KEPT = 4096  # distinct lines kept per process (about 1.4 KB each)


class LineFragments:
    """``cart_line(line, csrf_input)`` in the cart page's template: the line's ``<li>`` as markup."""

    def __init__(self, environment: Environment, template: str = "cart_line.html") -> None:
        self.environment = environment
        self.template = template
        self._kept: dict[PricedLine, tuple[str, ...]] = {}

    def __call__(self, line: PricedLine, csrf_input: str) -> Markup:
        parts = self._kept.get(line)
        if parts is None:
            html = self.environment.get_template(self.template).render(line=line, csrf=CSRF_SLOT)
            parts = tuple(html.split(CSRF_SLOT))
            if len(self._kept) >= KEPT:
                self._kept.clear()
            self._kept[line] = parts
        return Markup(csrf_input.join(parts))  # the parts are rendered markup; the input is Litestar's
