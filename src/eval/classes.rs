//! Classification metrics for tier, fit and intent: per-label precision,
//! recall and F1, a confusion matrix, and Cohen's kappa (agreement beyond
//! chance, which accuracy alone hides on unbalanced suites).

use super::metrics::{ratio, Counts};
use serde::{Deserialize, Serialize};

/// Per-label precision/recall/F1 of a classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMetrics {
    pub label: String,
    pub support: u32,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

/// A 3-class classification (tier, fit, intent) over the cases that label it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub labels: Vec<String>,
    /// Cases with a gold label.
    pub n: u32,
    pub correct: u32,
    /// Gold label present but nothing predicted (counted wrong).
    pub missing: u32,
    pub accuracy: Option<f64>,
    /// Rows gold, columns predicted, in `labels` order.
    pub confusion: Vec<Vec<u32>>,
    pub per_label: Vec<LabelMetrics>,
    /// Mean F1 over labels that occur in gold or predictions.
    pub macro_f1: Option<f64>,
    /// Cohen's kappa over the confusion matrix; `None` when chance agreement is 1.
    pub kappa: Option<f64>,
}

pub fn classify<T: Copy + PartialEq + std::fmt::Display>(
    pairs: &[(T, Option<T>)],
    labels: &[T],
) -> ClassMetrics {
    let k = labels.len();
    let index = |t: T| {
        labels
            .iter()
            .position(|l| *l == t)
            .expect("label in the label set")
    };
    let mut confusion = vec![vec![0u32; k]; k];
    let mut missing = 0;
    let mut correct = 0;
    for (gold, pred) in pairs {
        match pred {
            Some(p) => {
                confusion[index(*gold)][index(*p)] += 1;
                if p == gold {
                    correct += 1;
                }
            }
            None => missing += 1,
        }
    }
    let n = pairs.len() as u32;
    let mut per_label = Vec::new();
    let mut f1s = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let tp = confusion[i][i];
        let row: u32 = confusion[i].iter().sum();
        let col: u32 = confusion.iter().map(|r| r[i]).sum();
        let missed = pairs
            .iter()
            .filter(|(g, p)| *g == *label && p.is_none())
            .count() as u32;
        let c = Counts {
            tp,
            fp: col - tp,
            fn_: row - tp + missed,
        };
        if let Some(f) = c.f1() {
            f1s.push(f);
        }
        per_label.push(LabelMetrics {
            label: label.to_string(),
            support: row + missed,
            precision: c.precision(),
            recall: c.recall(),
            f1: c.f1(),
        });
    }
    ClassMetrics {
        labels: labels.iter().map(|l| l.to_string()).collect(),
        n,
        correct,
        missing,
        accuracy: ratio(correct as f64, n as f64),
        macro_f1: mean(&f1s),
        kappa: kappa(&confusion),
        confusion,
        per_label,
    }
}

pub fn mean(xs: &[f64]) -> Option<f64> {
    ratio(xs.iter().sum(), xs.len() as f64)
}

/// Cohen's kappa: (p_o − p_e) / (1 − p_e).
pub fn kappa(confusion: &[Vec<u32>]) -> Option<f64> {
    let n: u32 = confusion.iter().flatten().sum();
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let k = confusion.len();
    let po = (0..k).map(|i| confusion[i][i] as f64).sum::<f64>() / n;
    let pe = (0..k)
        .map(|i| {
            let row: u32 = confusion[i].iter().sum();
            let col: u32 = confusion.iter().map(|r| r[i]).sum();
            row as f64 * col as f64
        })
        .sum::<f64>()
        / (n * n);
    ((1.0 - pe).abs() > 1e-12).then(|| (po - pe) / (1.0 - pe))
}
