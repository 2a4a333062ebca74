#!/bin/bash
# Continues the three shipped denoisers on a GPU machine (WGPU over Vulkan), run from the root
# of the checkout that travelled there with the bundle scripts/gpu/bundle.sh packs into .gpu/
# (the CLI and configurations; models and corpora are read from the checkout in place): each
# trains for TRAIN_SECONDS from its shipped EMA weights (--init-from; a run directory left in
# /root/gpu-runs is resumed instead), all three at once; then each is exported (f16) and,
# with GEN=1, the evaluation samples are generated there (E2E 1000 unconditional, dev
# data-to-text MBR-5 at w 2, Yelp 1000 per class at w 16). One tar per model (diffusion/ of the export, metrics, samples) lands in $OUT.
# Usage: bash scripts/gpu/continue.sh TRAIN_SECONDS BATCH LR GEN(0|1)
set -u
T=${1:-45}; BATCH=${2:-512}; LR=${3:-2e-4}; GEN=${4:-0}
t0=$(date +%s)
# Vulkan loader packages carried in .gl/ (where the machine has none installed).
for f in .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $icd ] && export VK_DRIVER_FILES=$icd
G=$PWD/.gpu
M=$PWD/models
OUT=${OUT:-$PWD/gpu-out}; mkdir -p $OUT
W=/root/gpu-runs; mkdir -p $W
[ -x $W/ld4lg ] || xz -dc $G/ld4lg.xz > $W/ld4lg; chmod +x $W/ld4lg
B=$W/ld4lg
[ -f $W/mrs.txt ] || $B e2e-sources data/e2e/devset.csv.gz --out $W/mrs.txt
nvidia-smi --query-gpu=name,memory.used,utilization.gpu --format=csv,noheader
$B --device wgpu info 2>&1 | tail -3
pids=()
for m in e2e e2e-seq2seq yelp; do
  R=$W/run-$m; mkdir -p $R
  [ -f $R/tokenizer.json ] || { cp $M/$m/tokenizer.json $R/; cp -r $M/$m/autoencoder $R/; }
  # From the checkout's root: the configurations name the corpora relative to it.
  (timeout -s TERM $T $B --device wgpu train-diffusion --config $G/cfg-$m.json --run-dir $R \
     --init-from $M/$m --steps 1000000 --batch-size $BATCH --lr $LR > $W/log-$m.txt 2>&1; echo "exit $?" >> $W/log-$m.txt) &
  pids+=($!)
done
( while sleep 30; do nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader; done ) &
mon=$!
wait "${pids[@]}"
kill $mon 2>/dev/null
echo "trained at +$(( $(date +%s) - t0 )) s"
cd $W
for m in e2e e2e-seq2seq yelp; do
  echo "== $m"; tr '\r' '\n' < log-$m.txt | grep -v '^\s*$' | tail -n 12
  cat run-$m/diffusion/state.json; echo
  rm -rf exp-$m; $B --device wgpu export --checkpoint run-$m --out exp-$m > /dev/null 2>&1 || echo "export $m failed"
  cp run-$m/diffusion/metrics.csv run-$m/diffusion/state.json exp-$m/diffusion/ 2>/dev/null
done
if [ "$GEN" = 1 ]; then
  G1="--device wgpu generate --sampler dpm++ --steps 50 --seed 1 --batch-size 500"
  timeout 60 $B $G1 --checkpoint exp-e2e -n 1000 --out exp-e2e/diffusion/samples-greedy.txt 2>&1 | tail -2 &
  timeout 100 $B $G1 --checkpoint exp-e2e-seq2seq --source-file $W/mrs.txt --candidates 5 --mbr --guidance 2 \
     --out exp-e2e-seq2seq/diffusion/mbr-w2.txt --candidates-out exp-e2e-seq2seq/diffusion/candidates-w2.jsonl 2>&1 | tail -2 &
  for c in negative positive; do
    timeout 60 $B $G1 --checkpoint exp-yelp -n 1000 --class $c --guidance 16 --guidance-rescale 1 --out exp-yelp/diffusion/$c-w16.txt 2>&1 | tail -2 &
  done
  wait
fi
for m in e2e e2e-seq2seq yelp; do
  rm -f exp-$m/diffusion/model.json.tmp
  tar cf $OUT/$m.tar -C exp-$m diffusion && ls -la $OUT/$m.tar
done
for m in e2e e2e-seq2seq yelp; do tr '\r' '\n' < log-$m.txt | tail -c 30000 > $OUT/log-$m.txt; done
echo "done at +$(( $(date +%s) - t0 )) s"
