#!/usr/bin/env bash
# Starts and stops a tritonserver (from npm run setup:triton) over a model repository, on free ports.
#
#   scripts/triton-server.sh run REPO [options] [-- tritonserver args]    in the foreground (exec: the
#                                                                         process id is tritonserver's)
#   scripts/triton-server.sh start REPO --pid-file F [options] [-- ...]   in the background; returns once
#                                                                         the server is ready
#   scripts/triton-server.sh stop F                                       SIGTERM, then SIGKILL after 15 s
#
# Options: --http-port N --grpc-port N --metrics-port N (default: free ports), --address A (default
# 127.0.0.1), --log FILE (start; default REPO/../tritonserver.log), --ready-timeout S (start; default 120),
# --wait ready|live (start; default ready: every model loaded; live: the server answers, whatever
# became of the models, for repositories with models expected to fail).
# Prints "triton-server: http=URL grpc=URL metrics=URL" before starting the server.
# The environment tritonserver needs (from the nvidia-pytriton wheel): its bundled libraries on
# LD_LIBRARY_PATH, the venv's bin first on PATH (the Python backend's stub runs that Python), and the
# Python backend folder setup-triton.sh laid out as --backend-directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${INT8_DETECT_TRITON_VENV:-$root/.venv-triton}"

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop_server() {
  local pid_file="$1" pid
  [[ -f "$pid_file" ]] || { echo "triton-server: no pid file $pid_file" >&2; exit 1; }
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  fi
  rm -f "$pid_file"
  echo "triton-server: stopped $pid"
}

mode="${1:-}"
[[ -n "$mode" ]] || usage
shift
if [[ "$mode" == "stop" ]]; then
  [[ $# -eq 1 ]] || usage
  stop_server "$1"
  exit 0
fi
[[ "$mode" == "run" || "$mode" == "start" ]] || usage
[[ $# -ge 1 ]] || usage
repo="$(cd "$1" && pwd)"
shift

http_port="" grpc_port="" metrics_port="" address="127.0.0.1" pid_file="" log="" ready_timeout=120 wait=ready
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --http-port) http_port="$2"; shift 2 ;;
    --grpc-port) grpc_port="$2"; shift 2 ;;
    --metrics-port) metrics_port="$2"; shift 2 ;;
    --address) address="$2"; shift 2 ;;
    --pid-file) pid_file="$2"; shift 2 ;;
    --log) log="$2"; shift 2 ;;
    --ready-timeout) ready_timeout="$2"; shift 2 ;;
    --wait) wait="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "triton-server: unknown option $1" >&2; usage ;;
  esac
done

if [[ ! -x "$venv/bin/python" || ! -f "$venv/triton/backends/python/triton_python_backend_stub" ]]; then
  echo "triton-server: Triton is not set up in $venv: run 'npm run setup:triton' first" >&2
  exit 1
fi
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
server="$site/pytriton/tritonserver/bin/tritonserver"
export LD_LIBRARY_PATH="$site/nvidia_pytriton.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$venv/bin:$PATH"

http_port="${http_port:-$(free_port)}"
grpc_port="${grpc_port:-$(free_port)}"
metrics_port="${metrics_port:-$(free_port)}"
args=(
  --model-repository "$repo"
  --backend-directory "$venv/triton/backends"
  --http-address "$address" --http-port "$http_port"
  --grpc-address "$address" --grpc-port "$grpc_port"
  --metrics-address "$address" --metrics-port "$metrics_port"
  --allow-gpu-metrics false
  ${extra[@]+"${extra[@]}"}
)
echo "triton-server: http=http://$address:$http_port grpc=grpc://$address:$grpc_port metrics=http://$address:$metrics_port/metrics"

if [[ "$mode" == "run" ]]; then
  exec "$server" "${args[@]}"
fi

[[ -n "$pid_file" ]] || { echo "triton-server: start needs --pid-file FILE (to stop it later)" >&2; exit 2; }
log="${log:-$(dirname "$repo")/tritonserver.log}"
nohup "$server" "${args[@]}" >"$log" 2>&1 &
pid=$!
echo "$pid" > "$pid_file"
deadline=$((SECONDS + ready_timeout))
[[ "$wait" == "ready" || "$wait" == "live" ]] || { echo "triton-server: --wait expects ready or live, got $wait" >&2; exit 2; }
until "$venv/bin/python" -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://$address:$http_port/v2/health/$wait', timeout=2).status == 200 else 1)" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "triton-server: tritonserver exited before it was ready; the end of $log:" >&2
    tail -n 20 "$log" >&2
    rm -f "$pid_file"
    exit 1
  fi
  if (( SECONDS >= deadline )); then
    echo "triton-server: not ready within ${ready_timeout} s (see $log); stopping it" >&2
    stop_server "$pid_file" >&2
    exit 1
  fi
  sleep 0.5
done
echo "triton-server: $wait (pid $pid, log $log)"
