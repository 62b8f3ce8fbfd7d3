#!/usr/bin/env python3
"""tessera headless + Debian's weston-simple-shm (a real client nobody here
wrote) + grim (a real screenshot client): the client's pixels show up."""

import tessera_test as t


def test():
    simple_shm = t.host_program("weston-simple-shm")
    t.host_program("grim")
    tessera = t.Tessera(size=(800, 600))
    try:
        empty = tessera.screenshot("empty.png")
        t.check(empty.size() == (800, 600), f"screenshot size {empty.size()}")
        background = empty.pixel(400, 300)
        t.check(empty.count(background) == 800 * 600,
                "the empty desktop is not uniform")

        tessera.client([simple_shm])
        # weston-simple-shm draws 250x250 of animated rings; wait for them.
        def drawn():
            png = tessera.screenshot()
            return png if png.count(background) <= 800 * 600 - 240 * 240 else None
        png = t.wait_for(drawn, 10, "weston-simple-shm's pixels")

        # Find the window: the area that is no longer background.
        row = png.pixels([(x, 150) for x in range(0, 800, 2)])
        xs = [2 * i for i, color in enumerate(row) if color != background]
        t.check(xs, "no client pixels on row 150")
        x0, x1 = xs[0], xs[-1]
        t.check(240 <= x1 - x0 + 2 <= 260, f"window width {x1 - x0 + 2} is not ~250")
        distinct, _ = png.region(x0 + 20, 100, 200, 100)
        t.check(distinct >= 20, f"only {distinct} colours: not simple-shm's rings")

        # It animates: a later screenshot differs.
        with open(png.path, "rb") as f:
            first = f.read()
        def changed():
            with open(tessera.screenshot().path, "rb") as f:
                return f.read() != first
        t.wait_for(changed, 10, "the next animation frame")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
