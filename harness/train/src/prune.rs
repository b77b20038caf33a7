//! Structured channel pruning: each convolution keeps the output channels
//! with the largest L1 norm of their filter; the next layer (convolution or
//! the dense layer after the last pool, nine inputs a channel) loses the matching input
//! channels. The result is a smaller dense network (fine-tuned afterwards),
//! not a masked one: fewer weights, fewer MACs, smaller activations.

use crate::net::{Layer, Params};

/// Output channels a convolution of `channels` keeps after pruning `ratio` of them.
pub fn kept(channels: usize, ratio: f64) -> usize {
    ((channels as f64 * (1.0 - ratio)).round() as usize).clamp(1, channels)
}

/// Indices (ascending) of the `keep` output channels of `layer` with the largest L1 norm.
pub fn strongest(layer: &Layer, keep: usize) -> Vec<usize> {
    let norms: Vec<f32> = (0..layer.out_channels()).map(|o| layer.filter(o).iter().map(|w| w.abs()).sum()).collect();
    let mut order: Vec<usize> = (0..norms.len()).collect();
    // Largest norm first; ties by index, so the choice is deterministic.
    order.sort_by(|&a, &b| norms[b].total_cmp(&norms[a]).then(a.cmp(&b)));
    let mut keep: Vec<usize> = order.into_iter().take(keep).collect();
    keep.sort_unstable();
    keep
}

fn select_outputs(layer: &Layer, keep: &[usize]) -> Layer {
    let mut shape = layer.shape.clone();
    shape[0] = keep.len();
    Layer {
        shape,
        weight: keep.iter().flat_map(|&o| layer.filter(o).iter().copied()).collect(),
        bias: keep.iter().map(|&o| layer.bias[o]).collect(),
    }
}

fn select_inputs(layer: &Layer, keep: &[usize]) -> Layer {
    let spatial: usize = layer.shape[2..].iter().product();
    let mut shape = layer.shape.clone();
    shape[1] = keep.len();
    let mut weight = Vec::with_capacity(layer.out_channels() * keep.len() * spatial);
    for o in 0..layer.out_channels() {
        let f = layer.filter(o);
        for &i in keep {
            weight.extend_from_slice(&f[i * spatial..(i + 1) * spatial]);
        }
    }
    Layer { shape, weight, bias: layer.bias.clone() }
}

/// Prunes `ratio` of every convolution's output channels; returns the
/// smaller network and the original indices of the channels each
/// convolution kept.
pub fn prune(params: &Params, ratio: f64) -> (Params, [Vec<usize>; 3]) {
    let mut p = params.clone();
    let mut kept_channels: [Vec<usize>; 3] = Default::default();
    for (i, kept_here) in kept_channels.iter_mut().enumerate() {
        let keep = strongest(&p.convs[i], kept(p.convs[i].out_channels(), ratio));
        p.convs[i] = select_outputs(&p.convs[i], &keep);
        if i < 2 {
            p.convs[i + 1] = select_inputs(&p.convs[i + 1], &keep);
        } else {
            p.fc = select_inputs(&p.fc, &keep);
        }
        *kept_here = keep;
    }
    (p, kept_channels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weakest_channels_go_and_shapes_stay_consistent() {
        let mut p = Params::init([4, 4, 4], 9);
        // conv1 channel 2 and conv2 channel 0 are the weakest by far.
        p.convs[0].weight[2 * 9..3 * 9].iter_mut().for_each(|w| *w = 1e-4);
        p.convs[1].weight[..36].iter_mut().for_each(|w| *w = 1e-4);
        let (q, chosen) = prune(&p, 0.25);
        q.check().unwrap();
        assert_eq!(q.channels(), [3, 3, 3]);
        assert_eq!(chosen[0], [0, 1, 3]);
        assert_eq!(chosen[1], [1, 2, 3]);
        // conv2's kept filter 0 is the original filter 1 without input channel 2.
        let original = p.convs[1].filter(1);
        let expected: Vec<f32> = [0, 1, 3].iter().flat_map(|&i| original[i * 9..(i + 1) * 9].to_vec()).collect();
        assert_eq!(q.convs[1].filter(0), expected.as_slice());
        // The dense layer keeps conv3's kept channels as inputs.
        assert_eq!(q.fc.shape, [10, 3, 3, 3]);
        let c = chosen[2][0];
        assert_eq!(q.fc.weight[..9], p.fc.weight[c * 9..(c + 1) * 9]);
        assert_eq!(kept(32, 0.5), 16);
        assert_eq!(kept(8, 0.25), 6);
        assert_eq!(kept(1, 0.9), 1);
    }
}
