"""How edgecell prints a share and a size, in every command: accuracies and rates as percent with
two decimals ("99.67%"), file sizes in binary units with one decimal ("49.3 KiB"). JSON reports
keep fractions and byte counts; only what a person reads goes through here."""


def percent(fraction) -> str:
    """0.99671 -> '99.67%'; None -> 'n/a'."""
    return "n/a" if fraction is None else f"{100.0 * fraction:.2f}%"


def size(count_bytes: int) -> str:
    """50504 -> '49.3 KiB' (bytes below 1 KiB as '812 B')."""
    value = float(count_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
