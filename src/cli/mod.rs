//! The command line: its arguments (clap) and what each command does. Commands with
//! more than a few lines live in files of their own: `keys_command.rs` (signing keys, the CA,
//! timestamps) and `verify.rs` (`verify --offline`).

mod keys_command;
mod verify;

use std::{io::Read, path::PathBuf, process::ExitCode};

use crate::{
    accounts::{self, Role, UserInput},
    audit::Actor,
    config::{Config, LogFormat},
    db::Db,
    demo, departments,
    keys::KeyStore,
    letters, regions,
    rendering::Renderer,
    web::{self, AppState},
    workflow,
};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use keys_command::keys_command;

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The whole command: arguments, configuration, logging, the runtime, the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("naskah: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("naskah: runtime tokio tidak dapat dimulai: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("naskah: {e:#}");
            ExitCode::FAILURE
        }
    }
}
use verify::verify_offline;

#[derive(Parser)]
#[command(
    name = "naskah",
    version,
    about = "Naskah dinas elektronik: surat dan SK dari konsep sampai terverifikasi."
)]
pub struct Cli {
    /// Configuration file (default: ./naskah.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web service.
    Serve {
        /// Address to listen on (overrides `listen`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Seed the demo department into an empty database and print its accounts.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Seed the demo department (Disnaker Kabupaten Penajam Paser Utara) and exit.
    Demo {
        /// Instead: run the SOP's three documents from draft to signature in a database
        /// of their own in DIR, and write the signed PDFs, the public keys and summary.json there.
        #[arg(long, value_name = "DIR")]
        walkthrough: Option<PathBuf>,
        /// The walkthrough's candidate files (P3KE/DTKS exports, CSV or XLSX); the
        /// test exports of P3KE and DTKS when none are given.
        #[arg(long = "calon", value_name = "FILE", requires = "walkthrough")]
        candidates: Vec<PathBuf>,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage departments.
    Department {
        #[command(subcommand)]
        action: DepartmentAction,
    },
    /// Official region codes.
    Regions {
        #[command(subcommand)]
        action: RegionAction,
    },
    /// Print the effective configuration, with secrets hidden.
    Config,
    /// List the letter templates and their fields.
    Templates,
    /// Render a template as a draft: PDF, and optionally one page as PNG.
    Render {
        /// Template id (folder name under letter_templates/).
        template: String,
        /// JSON object with the template's fields; missing fields take their defaults.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Where to write the PDF.
        #[arg(short, long)]
        output: PathBuf,
        /// Also write this page (1 = first) as PNG next to the PDF.
        #[arg(long)]
        png: Option<usize>,
        /// Pixels per point for the PNG.
        #[arg(long, default_value_t = 2.0)]
        scale: f32,
        /// Department slug whose letterhead to use (default: the demo department, no database needed).
        #[arg(long)]
        department: Option<String>,
    },
    /// Officials' signing keys (Ed25519, encrypted in the key store).
    Keys {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Check every signed statement (paraf, signature, return) of a letter.
    VerifyChain {
        /// The letter's number in naskah (as in /surat/N).
        letter: i64,
    },
    /// Check a letter's QR token without the server: give the token, the verification
    /// address from the QR code, or the signed PDF.
    Verify {
        /// Required: the check uses no network.
        #[arg(long)]
        offline: bool,
        /// The token, the address (…/v/ID?t=TOKEN) or a PDF file.
        what: String,
        /// Public keys as published at /.well-known/naskah-keys.json (default: the keys in
        /// this installation's database).
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// A consistent copy of the SQLite database in FILE, while the service keeps serving
    /// (PostgreSQL: pg_dump, see the README). Back up the key store beside it.
    Backup {
        /// The new file (refused if it exists).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum KeyAction {
    /// Create the department's root certification authority, which certifies every
    /// official's PDF signature (done at the first signature otherwise), and optionally
    /// set the PDF signature algorithm. Prints the root's fingerprint; `--out` writes its
    /// certificate (PEM) for readers that want to trust it.
    Init {
        #[arg(long)]
        department: Option<String>,
        /// p256 (ECDSA P-256, the default: Acrobat, poppler, pyHanko) or ed25519.
        #[arg(long)]
        algorithm: Option<String>,
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Create an official's first signing key; the passphrase is read from standard input.
    Generate {
        /// The official: a username or an 18-digit NIP.
        official: String,
    },
    /// Re-encrypt an official's key under a new passphrase: two lines on standard input,
    /// the current passphrase then the new one.
    Passphrase { official: String },
    /// Replace an official's key (e.g. a forgotten passphrase); the old public key stays
    /// so what it signed still verifies. The new passphrase is read from standard input.
    Rotate { official: String },
    /// Move an older key store's files from `keys_dir` into the database (officials'
    /// keys as they are, the QR-token key, CA keys and BSrE client password sealed under
    /// the master key); the files are removed once all are in.
    Migrate,
    /// Print a new master key (64 hex digits) to give every node as NASKAH_MASTER_KEY.
    /// With `--rotate`, re-seal every secret in the database from the configured master
    /// key to the new one read from standard input.
    MasterKey {
        #[arg(long)]
        rotate: bool,
    },
    /// The keys of a department, current and retired.
    List {
        #[arg(long)]
        department: Option<String>,
    },
    /// Issue the CRLs that are due (none yet, revocations not listed, or near expiry);
    /// the running service does this every minute.
    Crl,
    /// Add the timestamps and validation data due now to signed PDFs (PAdES B-T/B-LT/
    /// B-LTA, from `timestamp.url`); the running service does this continuously.
    Timestamps,
    /// Set the department's PAdES level: b-b, b-t, b-lt, b-lta, or `bawaan` (B-LT with a
    /// timestamp authority configured, else B-B).
    Level {
        level: String,
        #[arg(long)]
        department: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AuditAction {
    /// Check every chain of the audit log; names each edited, deleted or reordered row.
    Verify,
}

#[derive(Subcommand)]
pub enum UserAction {
    /// Add a user; the password is read from standard input or generated and printed.
    Add {
        #[arg(long)]
        username: String,
        /// Full name as shown in the application.
        #[arg(long)]
        name: String,
        /// Department slug (default: the only department).
        #[arg(long)]
        department: Option<String>,
        /// Comma-separated roles: drafter, typist, approver, signer, agendaris, administrator.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user a new password (generated, or from standard input); it must be changed at next login.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users of a department.
    List {
        #[arg(long)]
        department: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DepartmentAction {
    /// Add a department; its administrator is added with `naskah user add`.
    Add {
        /// Short code used in the command line, e.g. `dinsos-ppu`.
        #[arg(long)]
        slug: String,
        /// e.g. "Dinas Sosial".
        #[arg(long)]
        name: String,
        /// e.g. "Kabupaten Penajam Paser Utara".
        #[arg(long)]
        regency: String,
        /// Regency code, e.g. 64.09.
        #[arg(long, default_value = "")]
        region_code: String,
        #[arg(long, default_value = "Asia/Makassar")]
        timezone: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum RegionAction {
    /// Import a CSV with columns kode,nama,tingkat[,jenis].
    Import { file: PathBuf },
}

fn load_renderer(config: &Config) -> anyhow::Result<Renderer> {
    Renderer::load(&config.templates_dir, config.render_concurrency)
        .with_context(|| format!("templat di {} tidak dapat dimuat", config.templates_dir.display()))
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    Ok(Db::open(&config.effective_database_url(), config.database_max_connections).await?)
}

fn read_password(from_stdin: bool) -> anyhow::Result<Option<String>> {
    if !from_stdin {
        return Ok(None);
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("kata sandi tidak dapat dibaca dari masukan standar")?;
    Ok(Some(text.trim_end_matches(['\n', '\r']).to_string()))
}

async fn department_for(db: &Db, slug: Option<&str>) -> anyhow::Result<departments::Department> {
    if let Some(slug) = slug {
        return departments::get_by_slug(db, slug)
            .await
            .with_context(|| format!("dinas '{slug}' tidak ditemukan"));
    }
    let all = departments::list(db).await?;
    match all.len() {
        1 => Ok(all.into_iter().next().expect("one department")),
        0 => bail!("belum ada dinas; buat dengan `naskah demo` atau `naskah department add`"),
        _ => bail!("ada beberapa dinas; sebutkan salah satunya dengan --department"),
    }
}

/// The deployment's key store: the configured master key, or a single node's generated
/// one (told once, with what to do with it).
fn key_store(db: &Db, config: &Config) -> anyhow::Result<KeyStore> {
    let (store, source) = KeyStore::from_config(db.clone(), config)?;
    if let crate::keys::master::MasterSource::Generated(path) = source {
        eprintln!(
            "Kunci induk baru dibuat di {}. Simpan salinannya terpisah dari cadangan basis data; \
             untuk beberapa node, berikan kunci yang sama sebagai NASKAH_MASTER_KEY.",
            path.display()
        );
    }
    Ok(store)
}

async fn seed_demo_keys(db: &Db, config: &Config) -> anyhow::Result<()> {
    let store = key_store(db, config)?;
    let fixed = std::env::var("NASKAH_DEMO_PASSPHRASE").ok().filter(|p| !p.is_empty());
    if let Some(passphrase) = demo::seed_keys(db, &store, fixed.as_deref()).await? {
        print!("{}", demo::describe_keys(&passphrase));
    }
    Ok(())
}

/// An official named by username or NIP, with their department.
async fn official_for(db: &Db, who: &str) -> anyhow::Result<departments::Official> {
    let official_id = match accounts::find_by_username(db, who).await? {
        Some(user) => user
            .official_id
            .with_context(|| format!("pengguna '{who}' tidak terhubung dengan data pejabat"))?,
        None => {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM officials WHERE nip = $1")
                .bind(who.replace(' ', ""))
                .fetch_optional(&db.pool)
                .await?;
            found.with_context(|| format!("tidak ada pengguna atau NIP '{who}'"))?.0
        }
    };
    let (department_id,): (i64,) = sqlx::query_as("SELECT department_id FROM officials WHERE id = $1")
        .bind(official_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(departments::get_official(db, department_id, official_id).await?)
}

/// Lines of standard input, without their line ends.
fn stdin_lines(wanted: usize, what: &str) -> anyhow::Result<Vec<String>> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .with_context(|| format!("{what} tidak dapat dibaca dari masukan standar"))?;
    let lines: Vec<String> = text.lines().map(|l| l.trim_end_matches('\r').to_string()).collect();
    if lines.len() < wanted {
        bail!("masukan standar harus berisi {what} ({wanted} baris)");
    }
    Ok(lines)
}

pub async fn run(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { listen, demo: seed_demo } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let db = open_db(&config).await?;
            let legacy = crate::keys::migrate::legacy_files(&config.keys_dir);
            if !legacy.is_empty() {
                bail!(
                    "{} berkas kunci lama ada di {}; pindahkan ke basis data dengan `naskah keys migrate` sebelum menjalankan layanan",
                    legacy.len(),
                    config.keys_dir.display()
                );
            }
            if seed_demo {
                let password = std::env::var("NASKAH_DEMO_PASSWORD").ok().filter(|p| !p.is_empty());
                let seeded = demo::seed(&db, password.as_deref()).await?;
                print!("{}", demo::describe(&seeded));
                seed_demo_keys(&db, &config).await?;
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("tidak dapat mendengarkan di {}", config.listen))?;
            let address = listener.local_addr()?;
            tracing::info!(%address, database = db.backend.name(), "naskah berjalan");
            println!("naskah berjalan di http://{address}");
            let keys = key_store(&db, &config)?;
            let state = AppState::with_keys(db.clone(), config, keys)?;
            let sealed = state.keys.check_master().await?;
            tracing::info!(master_key = state.keys.master().id(), sealed, "kunci induk");
            web::serve(state, listener, web::shutdown_signal()).await?;
            db.pool.close().await;
            tracing::info!("naskah berhenti");
            Ok(())
        }
        Command::Migrate => {
            let db = Db::connect(&config.effective_database_url(), config.database_max_connections).await?;
            let applied = db.migrate().await?;
            let state = db.schema_state().await?;
            if applied.is_empty() {
                println!("Skema basis data sudah terbaru (versi {}).", state.applied);
            } else {
                println!("Migrasi diterapkan: {:?}; skema sekarang versi {}.", applied, state.applied);
            }
            Ok(())
        }
        Command::Demo {
            walkthrough: Some(dir),
            candidates,
        } => {
            let outcome = crate::walkthrough::run(
                &dir,
                &config.templates_dir,
                &config.base_url,
                &config.mail,
                &config.timestamp,
                &candidates,
            )
            .await?;
            for i in &outcome.imports {
                println!(
                    "Impor {} ({}): {} baris, {} sah, {} ditolak; {} orang baru, {} digabung. Laporan: {}",
                    i.file, i.source, i.rows, i.valid, i.refused, i.new, i.merged, i.report
                );
            }
            for s in &outcome.signed {
                println!("{:<28} {}  {}", s.number, s.date, s.title);
                println!("{:<28} {}", "", s.file);
            }
            println!(
                "Surat konfirmasi untuk {} desa/kelurahan ditandatangani sekaligus (folder surat-desa); {} dikirim lewat surel; daftar pengiriman: daftar-pengiriman.pdf",
                outcome.village_letters, outcome.mailed
            );
            println!(
                "SK: {} penerima (calon sah, dikonfirmasi desa, belum peserta BPJS).",
                outcome.beneficiaries
            );
            println!("Ringkasan: {}", dir.join("summary.json").display());
            Ok(())
        }
        Command::Demo { walkthrough: None, .. } => {
            let db = open_db(&config).await?;
            let password = std::env::var("NASKAH_DEMO_PASSWORD").ok().filter(|p| !p.is_empty());
            let seeded = demo::seed(&db, password.as_deref()).await?;
            print!("{}", demo::describe(&seeded));
            seed_demo_keys(&db, &config).await?;
            Ok(())
        }
        Command::Keys { action } => keys_command(action, &config).await,
        Command::VerifyChain { letter } => {
            let db = open_db(&config).await?;
            let checks = workflow::verify_chain(&db, letter).await.map_err(|e| match e {
                workflow::Error::NotFound => anyhow::anyhow!("surat {letter} tidak ditemukan"),
                other => other.into(),
            })?;
            let mut bad = 0;
            for c in &checks {
                let when = chrono::DateTime::from_timestamp(c.at, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default();
                if c.problems.is_empty() {
                    println!("  #{:<3} {:<13} {:<40} {when}  SAH", c.seq, c.decision, c.official);
                } else {
                    bad += 1;
                    println!("  #{:<3} {:<13} {:<40} {when}  TIDAK SAH", c.seq, c.decision, c.official);
                    for p in &c.problems {
                        println!("        - {p}");
                    }
                }
            }
            if bad > 0 {
                bail!("{bad} dari {} pernyataan surat {letter} tidak sah", checks.len());
            }
            println!("Surat {letter}: {} pernyataan, semuanya sah.", checks.len());
            Ok(())
        }
        Command::Verify { offline, what, keys } => {
            if !offline {
                bail!("sebutkan --offline: pemeriksaan daring dilakukan di halaman verifikasi (alamat di kode QR)");
            }
            verify_offline(&config, &what, keys.as_deref()).await
        }
        Command::Backup { file } => {
            let db = open_db(&config).await?;
            let bytes = db.backup_to(&file).await?;
            println!(
                "Cadangan basis data ditulis ke {} ({} byte). Simpan juga penyimpanan kunci ({}).",
                file.display(),
                bytes,
                config.keys_dir.display()
            );
            Ok(())
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let db = open_db(&config).await?;
            let reports = crate::audit::verify::verify_all(&db).await?;
            let mut bad = 0;
            for r in &reports {
                if r.holds() {
                    println!("{:<16} {:>7} baris  utuh", r.chain, r.entries);
                } else {
                    bad += 1;
                    println!("{:<16} {:>7} baris  RUSAK", r.chain, r.entries);
                    for p in &r.problems {
                        println!("    - {p}");
                    }
                }
            }
            if bad > 0 {
                bail!("{bad} rantai log audit tidak utuh");
            }
            Ok(())
        }
        Command::User { action } => {
            let db = open_db(&config).await?;
            let actor = Actor::System("cli");
            match action {
                UserAction::Add {
                    username,
                    name,
                    department,
                    roles,
                    email,
                    password_stdin,
                } => {
                    let dept = department_for(&db, department.as_deref()).await?;
                    let roles = roles
                        .iter()
                        .map(|r| Role::parse(r.trim()).with_context(|| format!("peran '{r}' tidak dikenal")))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    let given = read_password(password_stdin)?;
                    let password = given.clone().unwrap_or_else(accounts::generate_password);
                    let input = UserInput {
                        username,
                        display_name: name,
                        email,
                        roles,
                        official_id: None,
                        active: Some(true),
                    };
                    let user = accounts::create(&db, &actor, dept.id, input, &password, given.is_none()).await?;
                    println!("Pengguna {} dibuat di {}.", user.username, dept.name);
                    if given.is_none() {
                        println!("Kata sandi awal (wajib diganti saat masuk): {password}");
                    }
                }
                UserAction::ResetPassword { username, password_stdin } => {
                    let user = accounts::find_by_username(&db, &username)
                        .await?
                        .with_context(|| format!("pengguna '{username}' tidak ditemukan"))?;
                    let given = read_password(password_stdin)?;
                    let password = given.clone().unwrap_or_else(accounts::generate_password);
                    accounts::set_password(&db, &actor, &user, &password, given.is_none(), None).await?;
                    match given {
                        Some(_) => println!("Kata sandi {} diganti.", user.username),
                        None => println!("Kata sandi baru {} (wajib diganti saat masuk): {password}", user.username),
                    }
                }
                UserAction::List { department } => {
                    let dept = department_for(&db, department.as_deref()).await?;
                    for u in accounts::list(&db, dept.id).await? {
                        let roles: Vec<&str> = u.roles.iter().map(|r| r.key()).collect();
                        println!(
                            "{:<16} {:<40} {}{}",
                            u.username,
                            u.display_name,
                            roles.join(","),
                            if u.active { "" } else { " (nonaktif)" }
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Department { action } => {
            let db = open_db(&config).await?;
            match action {
                DepartmentAction::Add {
                    slug,
                    name,
                    regency,
                    region_code,
                    timezone,
                } => {
                    let input = departments::DepartmentInput {
                        name,
                        regency_name: regency,
                        region_code,
                        timezone,
                        ..Default::default()
                    };
                    let d = departments::create(&db, &Actor::System("cli"), &slug, input).await?;
                    println!("Dinas {} {} dibuat (kode {}).", d.name, d.regency_name, d.slug);
                }
                DepartmentAction::List => {
                    for d in departments::list(&db).await? {
                        println!("{:<16} {} {}", d.slug, d.name, d.regency_name);
                    }
                }
            }
            Ok(())
        }
        Command::Regions {
            action: RegionAction::Import { file },
        } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("berkas {} tidak dapat dibaca", file.display()))?;
            let parsed = regions::parse_csv(&text)?;
            let db = open_db(&config).await?;
            let n = regions::import(&db, &parsed).await?;
            println!("{n} wilayah diimpor dari {}.", file.display());
            // Every department whose regency is now known gets its villages as recipients.
            for department in departments::list(&db).await? {
                let added = crate::distribution::recipients::sync_from_regions(&db, &Actor::System("cli"), &department).await?;
                if added > 0 {
                    println!("{added} penerima ditambahkan ke daftar penerima {}.", department.name);
                }
            }
            Ok(())
        }
        Command::Config => {
            print!("{}", config.to_display_toml());
            Ok(())
        }
        Command::Templates => {
            let renderer = load_renderer(&config)?;
            let catalogue = letters::Catalogue::from_renderer(&renderer)?;
            for t in &catalogue.templates {
                println!(
                    "{} — {} ({})",
                    t.id,
                    t.title,
                    if t.kind == letters::DocumentKind::Keputusan {
                        "keputusan"
                    } else {
                        "surat"
                    }
                );
                for f in &t.fields {
                    println!(
                        "    {:<18} {:<16} {}{}",
                        f.name,
                        f.kind.label(),
                        f.label,
                        if f.required { " (wajib)" } else { "" }
                    );
                    for c in &f.columns {
                        println!(
                            "      · {:<14} {:<16} {}{}",
                            c.name,
                            c.kind.label(),
                            c.label,
                            if c.required { " (wajib)" } else { "" }
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Render {
            template,
            data,
            output,
            png,
            scale,
            department,
        } => {
            let renderer = load_renderer(&config)?;
            let catalogue = letters::Catalogue::from_renderer(&renderer)?;
            let manifest = catalogue.get(&template)?;
            let given: serde_json::Value = match &data {
                Some(path) => serde_json::from_str(
                    &std::fs::read_to_string(path).with_context(|| format!("berkas {} tidak dapat dibaca", path.display()))?,
                )
                .with_context(|| format!("berkas {} bukan JSON yang valid", path.display()))?,
                None => serde_json::json!({}),
            };
            let (dept, logo) = match department {
                Some(slug) => {
                    let db = open_db(&config).await?;
                    let dept = departments::get_by_slug(&db, &slug)
                        .await
                        .with_context(|| format!("dinas '{slug}' tidak ditemukan"))?;
                    let logo = departments::logo(&db, dept.id).await?;
                    (dept, logo)
                }
                None => (
                    demo::department(),
                    Some((demo::DEMO_LOGO_SVG.to_vec(), "image/svg+xml".to_string())),
                ),
            };
            let job = match letters::draft_job(manifest, &dept.letterhead(), logo, &letters::with_defaults(manifest, &given)) {
                Ok(job) => job,
                Err(letters::Error::Invalid(errors)) => {
                    for e in &errors.0 {
                        eprintln!("  {}: {}", e.field, e.message);
                    }
                    bail!("data untuk templat {template} belum benar ({} masalah)", errors.0.len());
                }
                Err(e) => return Err(e.into()),
            };
            let rendered = match png {
                Some(page) => {
                    let (pdf, image) = letters::parts::render_pdf_and_png_blocking(&renderer, &job, page.saturating_sub(1), scale)?;
                    let png_path = output.with_extension(format!("hal{page}.png"));
                    std::fs::write(&png_path, &image.png).with_context(|| format!("{} tidak dapat ditulis", png_path.display()))?;
                    println!(
                        "Halaman {page} ditulis ke {} ({}×{} piksel).",
                        png_path.display(),
                        image.width,
                        image.height
                    );
                    pdf
                }
                None => letters::parts::render_pdf_blocking(&renderer, &job)?,
            };
            std::fs::write(&output, &rendered.pdf).with_context(|| format!("{} tidak dapat ditulis", output.display()))?;
            println!(
                "{} ditulis: {} halaman, {} byte.",
                output.display(),
                rendered.pages,
                rendered.pdf.len()
            );
            Ok(())
        }
    }
}
