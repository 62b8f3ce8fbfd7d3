#!/usr/bin/env python3
"""tesseractl window list/focus/close against a fake VM's window and host
windows: the list shows id, VM, geometry (where the pixels are), focus,
app id and title; focus gives the keyboard to that window (keys typed with
wtype reach it and no other); close makes the client get
xdg_toplevel.close, and its window leaves the list."""

import compositor_test
import ctl_test as c
import tessera_test as t


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    wtype = t.host_program("wtype")
    tessera = t.Tessera(size=(800, 600),
                        config=compositor_test.fake_vm_config({"work": "cc3333"}),
                        env={"FAKE_VMD_COLOR_work": "33cc33",
                             "FAKE_VMD_ARGS_work": "--app-id org.example.work"})
    try:
        vm = t.ClientLog(f"{tessera.tmp}/work.log")
        vm.wait("mapped")
        host = t.ClientLog(f"{tessera.tmp}/host.log")
        other = t.ClientLog(f"{tessera.tmp}/other.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "150x100",
                        "--title", "host window", "--app-id", "org.example.host",
                        "--log", host.path])
        host.wait("keyboard enter")
        tessera.client([simple_shm, "--color", "606060", "--size", "90x70",
                        "--title", "other", "--app-id", "org.example.other",
                        "--log", other.path])
        other.wait("keyboard enter")
        png = t.wait_for(lambda: (lambda p: p if all(p.bbox(col) for col in
                                                     ("33cc33", "808080", "606060"))
                                  else None)(tessera.screenshot()), 10, "three windows")

        # window list --json: front to back, the newest (focused) first
        listed = c.windows(tessera)
        t.check([w["title"] for w in listed] == ["other", "host window", "work window"],
                f"window list order: {listed}")
        by_title = {w["title"]: w for w in listed}
        work, hostw, otherw = (by_title[n] for n in ("work window", "host window", "other"))
        t.check(len({w["id"] for w in listed}) == 3 and all(w["id"] >= 1 for w in listed),
                f"window ids {[w['id'] for w in listed]}")
        t.check((work["vm"], work["app_id"], work["width"], work["height"], work["focused"])
                == ("work", "org.example.work", 200, 120, False), f"VM window: {work}")
        t.check((hostw["vm"], hostw["app_id"], hostw["width"], hostw["height"],
                 hostw["focused"]) == (None, "org.example.host", 150, 100, False),
                f"host window: {hostw}")
        t.check(otherw["focused"] is True, f"the newest window is not focused: {otherw}")
        # the geometry is where the content is on screen
        for w, color in ((work, "33cc33"), (hostw, "808080"), (otherw, "606060")):
            t.check(png.bbox(color)[:4] == (w["x"], w["y"], w["width"], w["height"]),
                    f"{w['title']}: listed at {w}, pixels at {png.bbox(color)}")

        # the table for people
        rows = c.table(c.ctl(tessera, "window", "list"))
        t.check(rows == [{"ID": str(w["id"]), "VM": w["vm"] or "(host)",
                          "FOCUSED": "yes" if w["focused"] else "no",
                          "GEOMETRY": f"{w['width']}x{w['height']}+{w['x']}+{w['y']}",
                          "APP-ID": w["app_id"], "TITLE": w["title"]} for w in listed],
                f"window list table {rows} differs from --json {listed}")

        # focus the VM window: it gets the keyboard, typed keys reach it only
        vm_mark, other_mark = t.log_mark(vm), t.log_mark(other)
        res = c.ctl(tessera, "window", "focus", work["id"])
        t.check(res.stdout == f"window {work['id']} focused\n", f"focus printed {res.stdout!r}")
        t.wait_after(vm, vm_mark, "keyboard enter")
        t.wait_after(other, other_mark, "keyboard leave")
        tessera.run([wtype, "k"])
        vm.wait_key("k")
        t.check(c.windows(tessera)[0]["id"] == work["id"] and
                [w["id"] for w in c.windows(tessera) if w["focused"]] == [work["id"]],
                f"after focus: {c.windows(tessera)}")

        # --json: the host window
        host_mark = t.log_mark(host)
        reply = c.ctl_json(tessera, "window", "focus", hostw["id"])
        t.check(reply["window"]["id"] == hostw["id"] and reply["window"]["focused"] is True,
                f"focus --json {reply}")
        t.wait_after(host, host_mark, "keyboard enter")
        tessera.run([wtype, "m"])
        host.wait_key("m")
        t.check(vm.pressed_keys() == ["k"] and host.pressed_keys() == ["m"] and
                other.pressed_keys() == [], f"keys: vm {vm.pressed_keys()}, host "
                f"{host.pressed_keys()}, other {other.pressed_keys()}")

        # close: the client gets xdg_toplevel.close (and, being
        # tessera-simple-shm, exits), its window leaves the list
        res = c.ctl(tessera, "window", "close", otherw["id"])
        t.check(res.stdout == f"window {otherw['id']} asked to close\n",
                f"close printed {res.stdout!r}")
        other.wait("close")
        t.wait_for(lambda: otherw["id"] not in [w["id"] for w in c.windows(tessera)], 10,
                   "the closed window to leave the list")
        reply = c.ctl_json(tessera, "window", "close", hostw["id"])
        t.check(reply["window"]["id"] == hostw["id"], f"close --json {reply}")
        host.wait("close")
        t.wait_for(lambda: [w["title"] for w in c.windows(tessera)] == ["work window"], 10,
                   "only the VM window to be left")
        t.wait_for(lambda: tessera.screenshot().bbox("808080") is None, 10,
                   "the closed host window to leave the screen")
        # a closed window's id is not reused: it names no window now
        res = c.ctl(tessera, "window", "focus", hostw["id"], expect=c.TESSERA_ERROR)
        t.check(res.stderr == f"tesseractl: no window with id {hostw['id']}\n",
                f"focus of a closed window: {res.stderr!r}")
        t.check(not vm.has("close"), "the VM window was asked to close")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
