-- Loaded into mpv by the video tests (tests/agent/test_video.py,
-- tests/vm/test_gl_vm.py): before the file is unloaded, prints one line
-- "mpv-figures: NAME VALUE ..." of mpv's frame counters on stdout.
local names = {
	"estimated-frame-number", -- frames played (shown or dropped)
	"frame-drop-count",       -- dropped by the video output
	"decoder-frame-drop-count",
	"vo-delayed-frame-count",
	"mistimed-frame-count",
	"time-pos",
	"container-fps",
	"estimated-display-fps",
}

mp.add_hook("on_unload", 50, function()
	local parts = {}
	for _, name in ipairs(names) do
		local value = mp.get_property_number(name)
		parts[#parts + 1] = name .. " " .. (value and string.format("%.2f", value) or "none")
	end
	io.stdout:write("mpv-figures: " .. table.concat(parts, " ") .. "\n")
	io.stdout:flush()
end)
