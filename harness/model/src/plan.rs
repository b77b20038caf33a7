//! Static memory planning: every activation tensor gets an arena offset; two
//! tensors share bytes only if their lifetimes do not overlap.
//!
//! Lifetime of a tensor: from the layer that writes it (the model input:
//! layer 0) to the last layer that reads it (the model output: past the last
//! layer), inclusive, so a layer's inputs and output never share memory.
//! Placement is greedy by size (TFLite Micro's `GreedyMemoryPlanner` idea):
//! largest tensor first, each at the lowest [`ALIGN`]ed offset that does not
//! collide with an already placed tensor that is alive at the same time.
//! Not optimal in general (that is NP-hard), but good for chains and
//! residual blocks, and deterministic.
//!
//! **Fused schedule.** [`fuse_next`] marks layer groups a fusing kernel set
//! runs in one pass: a CONV_2D or DEPTHWISE_CONV_2D, then a standalone RELU
//! and/or an AVERAGE/MAX_POOL_2D, each reading only the previous layer's
//! output, which nothing else reads. The marks go into the `.tbm` file
//! (`FLAG_FUSE_NEXT`), so the firmware does not re-derive them. One plan
//! serves both schedules: every intermediate tensor keeps its buffer (the
//! unfused sets write it), and the group's input stays alive until the
//! group's last layer, because the fused pass reads it while writing the
//! group's output.

use crate::graph::{Graph, LayerOp};

/// Alignment of every tensor in the arena (room for 128-bit SIMD loads).
pub const ALIGN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Arena offset of each graph tensor.
    pub offsets: Vec<usize>,
    /// Arena bytes needed: the highest end of any tensor.
    pub arena_bytes: usize,
    /// Per layer: it forms one fused group with the next layer ([`fuse_next`]).
    pub fuse_next: Vec<bool>,
}

/// Per layer: whether it and the next layer form a fused group (see the module docs).
pub fn fuse_next(graph: &Graph) -> Vec<bool> {
    let n = graph.layers.len();
    let mut readers = vec![0usize; graph.tensors.len()];
    for layer in &graph.layers {
        for &t in &layer.inputs {
            readers[t] += 1;
        }
    }
    // `layers[i]`'s output feeds only `layers[i + 1]`, as its sole input.
    let chained = |i: usize| {
        let (this, next) = (&graph.layers[i], &graph.layers[i + 1]);
        next.inputs == [this.output] && readers[this.output] == 1 && this.output != graph.output
    };
    let mut fuse = vec![false; n];
    for i in 0..n {
        let shape = match &graph.layers[i].op {
            LayerOp::Conv2d(p) => (p.batches, p.output_shape()),
            LayerOp::DepthwiseConv2d(p) => (p.batches, p.output_shape()),
            _ => continue,
        };
        let mut last = i;
        let mut relu_done = false;
        while last + 1 < n && chained(last) {
            let fits = match &graph.layers[last + 1].op {
                LayerOp::Relu(r) => !relu_done && r.size == shape.0 * shape.1.len(),
                LayerOp::AveragePool2d(p) | LayerOp::MaxPool2d(p) => p.batches == shape.0 && p.input == shape.1,
                _ => false,
            };
            if !fits {
                break;
            }
            fuse[last] = true;
            last += 1;
            match graph.layers[last].op {
                LayerOp::Relu(_) => relu_done = true,
                // A pool ends the group.
                _ => break,
            }
        }
    }
    fuse
}

/// `(first, last)` layer index during which each tensor is alive.
pub fn lifetimes(graph: &Graph) -> Vec<(usize, usize)> {
    lifetimes_fused(graph, &vec![false; graph.layers.len()])
}

/// [`lifetimes`], with each fused group's input kept alive to the group's end.
pub fn lifetimes_fused(graph: &Graph, fuse_next: &[bool]) -> Vec<(usize, usize)> {
    let n = graph.layers.len();
    let mut life = vec![(usize::MAX, 0usize); graph.tensors.len()];
    life[graph.input] = (0, 0);
    for (i, layer) in graph.layers.iter().enumerate() {
        let out = &mut life[layer.output];
        out.0 = out.0.min(i);
        out.1 = out.1.max(i);
        for &t in &layer.inputs {
            life[t].0 = life[t].0.min(i);
            life[t].1 = life[t].1.max(i);
        }
    }
    life[graph.output].1 = n;
    // Tensors no layer touches (none in a valid graph) get a zero-length life at 0.
    for l in &mut life {
        if l.0 == usize::MAX {
            *l = (0, 0);
        }
    }
    let mut first = 0;
    while first < n {
        let mut last = first;
        while last < n && fuse_next.get(last) == Some(&true) {
            last += 1;
        }
        for &t in &graph.layers[first].inputs {
            life[t].1 = life[t].1.max(last);
        }
        first = last + 1;
    }
    life
}

pub fn plan(graph: &Graph) -> Plan {
    let fuse = fuse_next(graph);
    let life = lifetimes_fused(graph, &fuse);
    let sizes: Vec<usize> = graph.tensors.iter().map(|t| t.len()).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    // Largest first; ties by index so the plan is deterministic.
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut offsets = vec![0usize; sizes.len()];
    let mut placed: Vec<usize> = Vec::new();
    for &t in &order {
        // Occupied ranges of placed tensors alive together with t, by offset.
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&p| life[p].0 <= life[t].1 && life[t].0 <= life[p].1)
            .map(|&p| (offsets[p], offsets[p] + sizes[p]))
            .collect();
        busy.sort_unstable();
        let mut candidate = 0;
        for (start, end) in busy {
            if candidate + sizes[t] <= start {
                break;
            }
            candidate = candidate.max(end.next_multiple_of(ALIGN));
        }
        offsets[t] = candidate;
        placed.push(t);
    }
    let arena_bytes = (0..sizes.len()).map(|t| offsets[t] + sizes[t]).max().unwrap_or(0);
    Plan { offsets, arena_bytes, fuse_next: fuse }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Layer, LayerOp, TensorInfo, Weights};

    fn tensor(len: usize) -> TensorInfo {
        TensorInfo { name: String::new(), shape: vec![len], scale: 1.0, zero_point: 0 }
    }

    fn layer(inputs: Vec<usize>, output: usize) -> Layer {
        Layer { source_index: 0, op: LayerOp::Reshape { size: 0 }, inputs, output, weights: Weights::default() }
    }

    #[test]
    fn a_chain_ping_pongs_between_two_buffers() {
        // t0 (100) -> t1 (50) -> t2 (100) -> t3 (10).
        let graph = Graph {
            tensors: vec![tensor(100), tensor(50), tensor(100), tensor(10)],
            layers: vec![layer(vec![0], 1), layer(vec![1], 2), layer(vec![2], 3)],
            input: 0,
            output: 3,
        };
        assert_eq!(lifetimes(&graph), [(0, 0), (0, 1), (1, 2), (2, 3)]);
        let p = plan(&graph);
        // t0 at 0; t2 (alive 1..2) overlaps t1 but not t0 -> 0 as well; t1 above both -> 112;
        // t3 overlaps only t2 -> 112.
        assert_eq!(p.offsets, [0, 112, 0, 112]);
        assert_eq!(p.arena_bytes, 162);
    }

    #[test]
    fn a_residual_keeps_the_skip_tensor_alive() {
        // t0 -> t1 -> t2; add(t0, t2) -> t3: t0 lives until layer 2.
        let graph = Graph {
            tensors: vec![tensor(32), tensor(32), tensor(32), tensor(32)],
            layers: vec![layer(vec![0], 1), layer(vec![1], 2), layer(vec![0, 2], 3)],
            input: 0,
            output: 3,
        };
        let p = plan(&graph);
        let life = lifetimes(&graph);
        for a in 0..4 {
            for b in a + 1..4 {
                let overlap_in_time = life[a].0 <= life[b].1 && life[b].0 <= life[a].1;
                let overlap_in_space = p.offsets[a] < p.offsets[b] + 32 && p.offsets[b] < p.offsets[a] + 32;
                assert!(!(overlap_in_time && overlap_in_space), "{a} and {b}");
            }
        }
        assert_eq!(p.arena_bytes, 96); // t0, and two of t1/t2/t3 at a time
    }
}
