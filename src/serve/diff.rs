//! Word-level differences between two versions of a target, for the edit history.

/// One run of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Same(String),
    Removed(String),
    Added(String),
}

/// Past this many word pairs the diff is the whole old text removed and the new one added
/// (the table would cost more than it shows).
const MAX_CELLS: usize = 250_000;

/// The words (with the spaces after them) of `old` and `new`, longest common run kept.
pub fn words(old: &str, new: &str) -> Vec<Piece> {
    let a = split(old);
    let b = split(new);
    if a.len() * b.len() > MAX_CELLS {
        return vec![Piece::Removed(old.into()), Piece::Added(new.into())];
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = match a[i] == b[j] {
                true => lcs[i + 1][j + 1] + 1,
                false => lcs[i + 1][j].max(lcs[i][j + 1]),
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            push(&mut out, Piece::Same(a[i].into()));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removed words before the added ones that replace them.
            push(&mut out, Piece::Removed(a[i].into()));
            i += 1;
        } else {
            push(&mut out, Piece::Added(b[j].into()));
            j += 1;
        }
    }
    out
}

/// Words with their trailing whitespace, so the pieces put together give the text back.
fn split(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(&text[start..i]);
            start = i;
            in_space = false;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Appends, merging with the last piece of the same kind.
fn push(out: &mut Vec<Piece>, piece: Piece) {
    match (out.last_mut(), piece) {
        (Some(Piece::Same(a)), Piece::Same(b))
        | (Some(Piece::Removed(a)), Piece::Removed(b))
        | (Some(Piece::Added(a)), Piece::Added(b)) => a.push_str(&b),
        (_, p) => out.push(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_word_is_removed_and_added() {
        let d = words(
            "The mayor of Kunshan said",
            "The mayor of Kunshan, Chen Liyan, said",
        );
        assert_eq!(
            d,
            [
                Piece::Same("The mayor of ".into()),
                Piece::Removed("Kunshan ".into()),
                Piece::Added("Kunshan, Chen Liyan, ".into()),
                Piece::Same("said".into()),
            ]
        );
        assert_eq!(words("a", "a"), [Piece::Same("a".into())]);
        assert_eq!(words("", "new"), [Piece::Added("new".into())]);
    }
}
