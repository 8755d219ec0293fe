//! `naskah verify --offline`: the check itself is `crate::verification::offline`; this
//! reads the input and the keys document and prints the report.

use crate::config::Config;
use anyhow::Context;

use super::open_db;

/// `naskah verify --offline`: reads the keys and the file, prints the report.
pub(super) async fn verify_offline(config: &Config, what: &str, keys_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    use crate::verification::offline::{self, Input};
    let path = std::path::Path::new(what);
    let published = match keys_file {
        Some(file) => {
            serde_json::from_str(&std::fs::read_to_string(file).with_context(|| format!("{} tidak dapat dibaca", file.display()))?)
                .with_context(|| format!("{} bukan JSON kunci naskah", file.display()))?
        }
        None => crate::verification::published_keys(&open_db(config).await?).await?,
    };
    let bytes = if path.is_file() {
        Some(std::fs::read(path).with_context(|| format!("{} tidak dapat dibaca", path.display()))?)
    } else {
        None
    };
    let input = match &bytes {
        Some(bytes) => Input::Pdf(bytes),
        None => Input::Text(what),
    };
    let report = offline::check(input, &published).map_err(|e| anyhow::anyhow!(e))?;
    let token = &report.token;
    println!("SAH: kode QR ditandatangani kunci dinas {}.", token.key);
    if let Some(number) = &report.number {
        println!("  Nomor        {number}");
    }
    println!("  Tanggal      {}", token.date);
    if let Some(signer) = &token.signer {
        println!("  Penandatangan {signer}");
    }
    println!("  Nomor verifikasi {}", token.verification_id);
    if let Some(line) = &report.embedded {
        println!("{line}");
    }
    println!("Status terkini (dicabut atau diganti) hanya dapat dilihat daring di halaman verifikasi.");
    Ok(())
}
