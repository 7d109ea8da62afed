#!/usr/bin/env bash
# Renders media/stock/video/warehouse-walk.mp4 with reelsmith itself: 8 s at 1280x720, 30 fps,
# a slow push into the warehouse picture with a load sliding across, so the training module
# has a real video clip (H.264 + silent AAC) to place. CC0 like the rest of media/stock.
set -euo pipefail
cd "$(dirname "$0")/../.."
spec=$(mktemp --suffix=.json)
trap 'rm -f "$spec"' EXIT
cat > "$spec" <<JSON
{ "output": { "width": 1280, "height": 720, "fps": 30, "quality": "standard" },
  "scenes": [{ "duration": 8,
    "background": { "type": "image", "src": "$PWD/media/stock/images/warehouse-aisle.jpg",
                    "motion": { "from": { "zoom": 1.0, "x": 0.5, "y": 0.55 },
                                "to": { "zoom": 1.35, "x": 0.55, "y": 0.5 } } },
    "layers": [
      { "type": "shape", "width": 220, "height": 150, "fill": "#C8873A", "corner_radius": 6,
        "border": { "color": "#7A4E1C", "width": 4 }, "x": "80%", "y": "78%",
        "animate_in": { "effect": "slide", "from": "left", "distance": 1400, "duration": 7.5,
                        "easing": "linear", "fade": false } }
    ] }] }
JSON
cargo run --release -q -- render "$spec" -q -o media/stock/video/warehouse-walk.mp4
