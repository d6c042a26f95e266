//! `render`'s files as a `.tar.gz`: a POSIX ustar archive (our own writer: regular files only,
//! names up to 100 bytes or split at a `/` into prefix and name) compressed with gzip.

use std::io::Write as _;

/// The bytes of a `.tar.gz` holding `files` (`(path, text)`), each under `root/`, with mode
/// 0644 and modification time `mtime` (seconds since 1970; fixed, so the same files give the
/// same bytes). Refused: a path too long for ustar, or one with `..` or a leading `/`.
pub fn tar_gz(root: &str, files: &[(String, String)], mtime: u64) -> Result<Vec<u8>, String> {
    let mut tar = Vec::new();
    for (name, text) in files {
        let path = format!("{root}/{name}");
        if name.starts_with('/') || name.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(format!("`{name}`: not a relative path"));
        }
        tar.extend_from_slice(&header(&path, text.len() as u64, mtime)?);
        tar.extend_from_slice(text.as_bytes());
        tar.resize(tar.len().next_multiple_of(512), 0);
    }
    // Two zero blocks end the archive.
    tar.resize(tar.len() + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

/// One ustar header block.
fn header(path: &str, size: u64, mtime: u64) -> Result<[u8; 512], String> {
    let mut h = [0u8; 512];
    let (prefix, name) =
        split(path).ok_or_else(|| format!("`{path}`: too long for a tar header"))?;
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[148..156].fill(b' ');
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    // Six octal digits, a NUL and a space, as POSIX writes it.
    let digits = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(digits.as_bytes());
    Ok(h)
}

/// `path` as ustar's (prefix ≤ 155, name ≤ 100) split at a `/`.
fn split(path: &str) -> Option<(&str, &str)> {
    if path.len() <= 100 {
        return Some(("", path));
    }
    path.match_indices('/')
        .map(|(i, _)| (&path[..i], &path[i + 1..]))
        .find(|(p, n)| p.len() <= 155 && n.len() <= 100 && !n.is_empty())
}

/// `v` as zero-padded octal digits filling `field` but its last byte (a NUL).
fn octal(field: &mut [u8], v: u64) {
    let width = field.len() - 1;
    let s = format!("{v:0width$o}");
    field[..width].copy_from_slice(&s.as_bytes()[s.len() - width..]);
    field[width] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_ustar_with_a_valid_checksum() {
        let h = header("deploy/a.yaml", 5, 0).unwrap();
        assert_eq!(&h[257..262], b"ustar");
        let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).unwrap(), 8).unwrap();
        let mut blank = h;
        blank[148..156].fill(b' ');
        assert_eq!(stored, blank.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert!(tar_gz("r", &[("../x".into(), String::new())], 0).is_err());
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let (p, n) = split(&long).unwrap();
        assert_eq!((p.len(), n.len()), (120, 90));
    }
}
