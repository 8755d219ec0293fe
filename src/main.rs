//! The `naskah` command: serve, migrate, seed the demo, manage users and regions.

use std::{io::Read, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use naskah::{
    accounts::{self, Role, UserInput},
    audit::Actor,
    config::{Config, LogFormat},
    db::Db,
    demo, departments, letters, regions,
    rendering::Renderer,
    web::{self, AppState},
};

/// Typst allocates and frees a great deal; with glibc's allocator a long document renders
/// about a quarter slower and peaks higher (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "naskah",
    version,
    about = "Naskah dinas elektronik: surat dan SK dari konsep sampai terverifikasi."
)]
struct Cli {
    /// Configuration file (default: ./naskah.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    Demo,
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
    /// Benchmarks against the Typst command line and WeasyPrint; writes BENCHMARKS.md.
    Bench {
        /// Smaller peer counts; prints the report instead of writing BENCHMARKS.md.
        #[arg(long)]
        quick: bool,
        /// Where to write the report (default: BENCHMARKS.md for a full run).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Measure only naskah, not the peers.
        #[arg(long)]
        no_peers: bool,
        /// Do not run benches/peers.sh to install missing peers first.
        #[arg(long)]
        no_install: bool,
        /// Internal: measure only this in this process (`sk`, `sk-whole` or `letter`).
        #[arg(long, hide = true)]
        only: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserAction {
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
enum DepartmentAction {
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
enum RegionAction {
    /// Import a CSV with columns kode,nama,tingkat[,jenis].
    Import { file: PathBuf },
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
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

async fn run(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Bench {
            quick,
            out,
            no_peers,
            no_install,
            only,
        } => naskah::bench::run(&naskah::bench::Options {
            templates_dir: config.templates_dir.clone(),
            quick,
            out,
            peers: !no_peers,
            install_peers: !no_install,
            only,
        }),
        Command::Serve { listen, demo: seed_demo } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let db = open_db(&config).await?;
            if seed_demo {
                let password = std::env::var("NASKAH_DEMO_PASSWORD").ok().filter(|p| !p.is_empty());
                let seeded = demo::seed(&db, password.as_deref()).await?;
                print!("{}", demo::describe(&seeded));
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("tidak dapat mendengarkan di {}", config.listen))?;
            let address = listener.local_addr()?;
            tracing::info!(%address, database = db.backend.name(), "naskah berjalan");
            println!("naskah berjalan di http://{address}");
            let state = AppState::new(db.clone(), config)?;
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
        Command::Demo => {
            let db = open_db(&config).await?;
            let password = std::env::var("NASKAH_DEMO_PASSWORD").ok().filter(|p| !p.is_empty());
            let seeded = demo::seed(&db, password.as_deref()).await?;
            print!("{}", demo::describe(&seeded));
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
            let job = match letters::draft_job(manifest, &dept, logo, &letters::with_defaults(manifest, &given)) {
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
