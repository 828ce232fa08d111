"""Small trend charts drawn server-side as inline SVG.

No JavaScript and no colour needed: black line, round markers, a dashed
target line, readable when printed in black and white.  In right-to-left
languages time runs from right to left, like the text.
"""

from markupsafe import Markup, escape

from odoo.tools.misc import formatLang


def chart_digits(value):
    """Decimals of a value written on a chart: none from 100 up or for whole
    numbers, else one."""
    if abs(value) >= 100 or float(value).is_integer():
        return 0
    return 1


def number_format(env):
    """The function writing a chart's values in the language of ``env``
    (its thousands separator and decimal point, Persian digits...)."""

    def fmt(value):
        if value is None:
            return ""
        return formatLang(env, value, digits=chart_digits(value))

    return fmt


def trend_svg(points, fmt, width=230, height=86, rtl=False, target=None, title=None):
    """Return the ``<svg>`` markup of a line chart.

    ``points`` is a list of ``(label, value)``, oldest first; a value of
    ``None`` (n/a) breaks the line.  ``target``, when given, is drawn as a
    dashed line.  ``fmt`` writes the values on the chart in the reader's
    language (:func:`number_format`)."""
    pad_x, pad_top, pad_bottom = 30, 8, 16
    plot_w = width - 2 * pad_x
    plot_h = height - pad_top - pad_bottom
    values = [v for _label, v in points if v is not None]
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            'viewBox="0 0 {w} {h}" role="img" direction="ltr" '
            'font-family="sans-serif" font-size="8">'
        ).format(w=width, h=height)
    ]
    if title:
        parts.append(Markup("<title>{}</title>").format(title))
    # frame: baseline and the two vertical axes
    parts.append(
        Markup(
            '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" '
            'stroke="#999" stroke-width="0.5"/>'
        ).format(x=pad_x, y=pad_top, w=plot_w, h=plot_h)
    )
    n = len(points)
    if not values:
        parts.append(
            Markup(
                '<text x="{x}" y="{y}" text-anchor="middle" fill="#000">n/a</text>'
            ).format(x=width / 2, y=pad_top + plot_h / 2 + 3)
        )
        parts.append(Markup("</svg>"))
        return Markup("").join(parts)
    low = min(values + ([target] if target is not None else []))
    high = max(values + ([target] if target is not None else []))
    if high == low:
        high, low = high + 1, low - 1

    def x_of(i):
        step = plot_w / (n - 1) if n > 1 else 0
        pos = pad_x + (i * step if n > 1 else plot_w / 2)
        return round(width - pos if rtl else pos, 1)

    def y_of(v):
        return round(pad_top + plot_h - (v - low) / (high - low) * plot_h, 1)

    # value scale: highest and lowest value at the start side of the chart
    scale_x = width - pad_x + 3 if rtl else pad_x - 3
    anchor = "start" if rtl else "end"
    for v in (high, low):
        parts.append(
            Markup(
                '<text x="{x}" y="{y}" text-anchor="{a}" fill="#000">{t}</text>'
            ).format(x=scale_x, y=y_of(v) + 3, a=anchor, t=fmt(v))
        )
    if target is not None:
        parts.append(
            Markup(
                '<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#000" '
                'stroke-width="0.8" stroke-dasharray="3,2"/>'
            ).format(x1=pad_x, x2=pad_x + plot_w, y=y_of(target))
        )
    # the line, broken where a value is missing
    segment = []
    segments = []
    for i, (_label, v) in enumerate(points):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            segment.append((x_of(i), y_of(v)))
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                Markup(
                    '<polyline points="{p}" fill="none" stroke="#000" '
                    'stroke-width="1.4"/>'
                ).format(p=" ".join(f"{x},{y}" for x, y in seg))
            )
        for x, y in seg:
            parts.append(
                Markup('<circle cx="{x}" cy="{y}" r="1.8" fill="#000"/>').format(
                    x=x, y=y
                )
            )
    # first and last period labels under the axis
    for i in {0, n - 1}:
        label = points[i][0] or ""
        first = i == 0
        parts.append(
            Markup(
                '<text x="{x}" y="{y}" text-anchor="{a}" fill="#000">{t}</text>'
            ).format(
                x=x_of(i),
                y=height - 4,
                a="middle" if n == 1 else ("start" if first != rtl else "end"),
                t=escape(label),
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
