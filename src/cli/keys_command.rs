//! `naskah keys …`: the officials' signing keys, the department's keys and CA, CRLs,
//! long-term signature jobs and the level.

use crate::{audit::Actor, config::Config, departments, keys};

use super::{KeyAction, department_for, official_for, open_db, stdin_lines};

pub(super) async fn keys_command(action: KeyAction, config: &Config) -> anyhow::Result<()> {
    if let KeyAction::MasterKey { rotate: false } = action {
        // Needs no database: a fresh key for a new deployment.
        println!("{}", crate::keys::MasterKey::generate().to_hex().as_str());
        return Ok(());
    }
    let db = open_db(config).await?;
    let store = super::key_store(&db, config)?;
    let actor = Actor::System("cli");
    match action {
        KeyAction::Init {
            department,
            algorithm,
            out,
        } => {
            let dept = department_for(&db, department.as_deref()).await?;
            if let Some(code) = algorithm {
                let algorithm = crate::signing::Algorithm::parse(&code)
                    .ok_or_else(|| anyhow::anyhow!("algoritme tanda tangan tidak dikenal: {code} (pilih p256 atau ed25519)"))?;
                crate::keys::authority::set_algorithm(&db, &actor, dept.id, algorithm).await?;
            }
            let (authority, created) = crate::keys::authority::ensure(&db, &store, &actor, &dept).await?;
            let algorithm = crate::keys::authority::algorithm(&db, dept.id).await?;
            println!(
                "{} {}\n  sidik jari SHA-256: {}\n  berlaku {} s.d. {}\n  algoritme tanda tangan PDF: {}",
                if created {
                    "Otoritas sertifikat dibuat:"
                } else {
                    "Otoritas sertifikat sudah ada:"
                },
                authority.subject,
                authority.fingerprint,
                dept.tz().format_time(authority.not_before),
                dept.tz().format_time(authority.not_after),
                algorithm.label(),
            );
            if let Some(path) = out {
                std::fs::write(&path, authority.pem())?;
                println!("  sertifikat ditulis ke {}", path.display());
            }
        }
        KeyAction::Generate { official } => {
            let o = official_for(&db, &official).await?;
            let passphrase = stdin_lines(1, "frasa sandi")?.remove(0);
            let key = keys::generate(&db, &store, &actor, o.department_id, o.id, &passphrase).await?;
            println!(
                "Kunci {} dibuat untuk {} (tersimpan terenkripsi di basis data).",
                key.key_id,
                o.full_name()
            );
        }
        KeyAction::Passphrase { official } => {
            let o = official_for(&db, &official).await?;
            let lines = stdin_lines(2, "frasa sandi lama dan baru")?;
            let key = keys::change_passphrase(&db, &store, &actor, o.id, &lines[0], &lines[1]).await?;
            println!("Frasa sandi kunci {} milik {} diganti.", key.key_id, o.full_name());
        }
        KeyAction::Rotate { official } => {
            let o = official_for(&db, &official).await?;
            let passphrase = stdin_lines(1, "frasa sandi baru")?.remove(0);
            let key = keys::rotate(&db, &store, &actor, o.department_id, o.id, &passphrase).await?;
            // The old key's certificates are revoked: publish them in the CRL now.
            crate::keys::revocation::refresh(&db, &store).await?;
            println!(
                "Kunci baru {} untuk {}; kunci lama dipensiunkan dan tetap dapat memeriksa tanda tangan lama.",
                key.key_id,
                o.full_name()
            );
        }
        KeyAction::Crl => {
            let issued = crate::keys::revocation::refresh(&db, &store).await?;
            println!("{issued} CRL diterbitkan.");
        }
        KeyAction::Timestamps => {
            let augmenter = crate::workflow::longterm::Augmenter::from_config(&db, &store, &config.timestamp)
                .map_err(anyhow::Error::msg)?
                .ok_or_else(|| anyhow::anyhow!("timestamp.url belum dikonfigurasi (NASKAH_TSA_URL)"))?;
            let run = augmenter.run_once().await?;
            println!("{} selesai, {} tertunda, {} gagal.", run.completed, run.delayed, run.failed);
        }
        KeyAction::Level { level, department } => {
            let dept = department_for(&db, department.as_deref()).await?;
            let chosen = match level.as_str() {
                "bawaan" => None,
                code => Some(
                    crate::signing::ltv::Level::parse(code)
                        .ok_or_else(|| anyhow::anyhow!("tingkat tidak dikenal: {code} (pilih b-b, b-t, b-lt, b-lta atau bawaan)"))?,
                ),
            };
            crate::workflow::longterm::set_level(&db, &actor, dept.id, chosen).await?;
            let now = crate::workflow::longterm::level(&db, dept.id, !config.timestamp.url.is_empty()).await?;
            println!("Tingkat tanda tangan {}: {}.", dept.name, now.label());
        }
        KeyAction::Migrate => {
            let report = crate::keys::migrate::migrate(&db, &store, &actor, &config.keys_dir).await?;
            for name in &report.moved {
                println!("dipindahkan: {name}");
            }
            for name in &report.already_moved {
                println!("sudah ada di basis data (berkas dihapus): {name}");
            }
            for (path, reason) in &report.left {
                println!("dibiarkan: {} ({reason})", path.display());
            }
            println!(
                "{} rahasia dipindahkan ke basis data, {} sudah ada, {} berkas dibiarkan.",
                report.moved.len(),
                report.already_moved.len(),
                report.left.len()
            );
        }
        KeyAction::MasterKey { .. } => {
            let line = stdin_lines(1, "kunci induk baru")?.remove(0);
            let new = crate::keys::MasterKey::parse(&line)?;
            let resealed = store.reseal(&actor, &new).await?;
            println!(
                "{resealed} rahasia disegel ulang dengan kunci induk {}. Berikan kunci baru ini ke setiap node sebagai \
                 NASKAH_MASTER_KEY dan simpan cadangannya; kunci lama tidak lagi membuka apa pun.",
                new.id()
            );
        }
        KeyAction::List { department } => {
            let dept = department_for(&db, department.as_deref()).await?;
            let officials = departments::list_officials(&db, dept.id).await?;
            for k in keys::list(&db, dept.id).await? {
                let name = officials
                    .iter()
                    .find(|o| o.id == k.official_id)
                    .map(|o| o.full_name())
                    .unwrap_or_else(|| format!("pejabat {}", k.official_id));
                let status = match k.retired_at {
                    None => "aktif".to_string(),
                    Some(at) => format!("pensiun {}", dept.tz().format_time(at)),
                };
                println!(
                    "{}  {:<40} dibuat {}  {status}",
                    k.key_id,
                    name,
                    dept.tz().format_time(k.created_at)
                );
            }
        }
    }
    Ok(())
}
