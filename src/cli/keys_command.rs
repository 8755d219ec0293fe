//! `naskah keys …`: the officials' signing keys, the department's keys and CA, CRLs,
//! long-term signature jobs and the level.

use crate::{
    audit::Actor,
    config::Config,
    departments,
    keys::{self, KeyStore},
};

use super::{KeyAction, department_for, official_for, open_db, stdin_lines};

pub(super) async fn keys_command(action: KeyAction, config: &Config) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let store = KeyStore::new(&config.keys_dir);
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
            println!("Kunci {} dibuat untuk {} di {}.", key.key_id, o.full_name(), store.dir().display());
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
