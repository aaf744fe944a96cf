#!/usr/bin/env bash
# Test media for the video tests and benchmarks, made at test time from the COCO fixture images
# (never committed): an H.264 slideshow and the exact stills it shows.
#
#   scripts/make-test-video.sh --out DIR [--images N] [--seconds S] [--fps F] [--size WxH] [--switch-size WxH]
#
# DIR/stills/NNN.png    each image letterboxed (centred, black bars) to WxH: what the video shows,
#                       before H.264 compression, so detections on them are the pseudo ground truth
# DIR/slideshow.h264    H.264 Annex B with access unit delimiters (the RTSP server splits frames on them), WxH at F fps, each still for S seconds, a keyframe every second
#                       and no B-frames (what IP cameras send)
# DIR/switch.h264       with --switch-size: the slideshow at WxH, then again at the second size
#                       (a camera whose resolution changes mid-stream)
# DIR/stills.txt        the still files in slideshow order
set -euo pipefail

out=''
images=8
seconds=1
fps=15
size=640x480
switch_size=''
fixtures="${INT8_DETECT_FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures}"

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --images) images="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --fps) fps="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --switch-size) switch_size="$2"; shift 2 ;;
    *) echo "make-test-video.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo 'make-test-video.sh: --out DIR is required' >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo 'make-test-video.sh: ffmpeg is not installed (Debian: apt-get install ffmpeg)' >&2; exit 1; }

mkdir -p "$out/stills"
: > "$out/stills.txt"
: > "$out/concat.txt"
n=0
for image in $(ls "$fixtures/coco/eval/images" | sort | head -n "$images"); do
  still="$out/stills/$(printf '%03d' "$n").png"
  w="${size%x*}"; h="${size#*x}"
  ffmpeg -nostdin -hide_banner -loglevel error -y -i "$fixtures/coco/eval/images/$image" \
    -vf "scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,format=rgb24" \
    -frames:v 1 "$still"
  echo "$still" >> "$out/stills.txt"
  printf "file '%s'\nduration %s\n" "$still" "$seconds" >> "$out/concat.txt"
  n=$((n + 1))
done
# The concat demuxer ignores the last entry's duration unless the file is listed once more.
printf "file '%s'\n" "$still" >> "$out/concat.txt"

encode() { # $1: output, $2: WxH
  local w="${2%x*}" h="${2#*x}"
  ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i "$out/concat.txt" \
    -vf "fps=${fps},scale=${w}:${h},format=yuv420p" -c:v libx264 -preset veryfast -crf 20 \
    -profile:v main -x264-params aud=1 -bf 0 -g "$fps" -keyint_min "$fps" -sc_threshold 0 -frames:v "$(awk -v n="$n" -v s="$seconds" -v f="$fps" 'BEGIN { printf "%d", n * s * f + 0.5 }')" \
    -bsf:v h264_mp4toannexb -f h264 "$1"
}

encode "$out/slideshow.h264" "$size"
if [ -n "$switch_size" ]; then
  encode "$out/second.h264" "$switch_size"
  cat "$out/slideshow.h264" "$out/second.h264" > "$out/switch.h264"
  rm -f "$out/second.h264"
fi
rm -f "$out/concat.txt"
echo "$out"
