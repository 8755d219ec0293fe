//! Units, positions and officials: one list-and-add page and one edit page each, built
//! from a shared description of the resource.

use std::future::Future;

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{Field, Form, FormData, Notice, Page, Row, Shell, Table, choices, form_failure, id_choices, render_page, settings_tabs};
use crate::{
    AppState,
    accounts::Role,
    audit::Actor,
    auth::{PageForm, SessionUser},
    db::Db,
    departments::{self, Error, OfficialInput, POSITION_KINDS, PositionInput, UNIT_KINDS, UnitInput, kind_label},
    error::PageError,
    validation::FieldErrors,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(routes::<Units>())
        .merge(routes::<Positions>())
        .merge(routes::<Officials>())
}

fn routes<R: Resource>() -> Router<AppState> {
    Router::new()
        .route(R::PATH, get(list_page::<R>).post(create::<R>))
        .route(&format!("{}/{{id}}", R::PATH), get(edit_page::<R>).post(update::<R>))
        .route(&format!("{}/{{id}}/hapus", R::PATH), post(delete::<R>))
}

/// What differs between the organisation resources; the handlers below are shared.
trait Resource: Send + Sync + 'static {
    type Input: Clone + Default + Send + Sync;
    type Item: Send;
    const PATH: &'static str;
    const HEADING: &'static str;
    const INTRO: &'static str;
    const ADD_TITLE: &'static str;
    const EDIT_TITLE: &'static str;
    const DELETE_LABEL: &'static str;
    const COLUMNS: &'static [&'static str];

    fn list(db: &Db, dept: i64) -> impl Future<Output = Result<Vec<Self::Item>, Error>> + Send;
    fn get(db: &Db, dept: i64, id: i64) -> impl Future<Output = Result<Self::Item, Error>> + Send;
    fn create(db: &Db, actor: &Actor, dept: i64, input: Self::Input) -> impl Future<Output = Result<(), Error>> + Send;
    fn update(db: &Db, actor: &Actor, dept: i64, id: i64, input: Self::Input) -> impl Future<Output = Result<(), Error>> + Send;
    fn delete(db: &Db, actor: &Actor, dept: i64, id: i64) -> impl Future<Output = Result<(), Error>> + Send;
    fn id(item: &Self::Item) -> i64;
    fn input_of(item: &Self::Item) -> Self::Input;
    fn input_from(form: &FormData) -> Result<Self::Input, FieldErrors>;
    /// Table cells and form fields may need the department's other data (units for a select).
    fn context(db: &Db, dept: i64) -> impl Future<Output = Result<Context, Error>> + Send;
    fn cells(item: &Self::Item, ctx: &Context) -> Vec<String>;
    fn fields(input: &Self::Input, ctx: &Context) -> Vec<Field>;
}

/// The lookups the organisation pages share.
#[derive(Default)]
struct Context {
    units: Vec<departments::Unit>,
    positions: Vec<departments::Position>,
}

impl Context {
    async fn load(db: &Db, dept: i64) -> Result<Self, Error> {
        Ok(Context {
            units: departments::list_units(db, dept).await?,
            positions: departments::list_positions(db, dept).await?,
        })
    }
    fn unit_name(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.units.iter().find(|u| u.id == id))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| "—".into())
    }
    fn position_title(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.positions.iter().find(|p| p.id == id))
            .map(|p| p.title.clone())
            .unwrap_or_else(|| "—".into())
    }
    fn unit_choices(&self, selected: Option<i64>, except: Option<i64>) -> Vec<super::Choice> {
        id_choices(
            self.units.iter().filter(|u| Some(u.id) != except).map(|u| (u.id, u.name.clone())),
            selected,
            "— tidak ada —",
        )
    }
}

async fn render_list<R: Resource>(
    state: &AppState,
    user: &SessionUser,
    input: &R::Input,
    errors: &FieldErrors,
    notice: &str,
    status: StatusCode,
) -> Result<Response, PageError> {
    let dept = user.department.id;
    let items = R::list(&state.db, dept).await?;
    let ctx = R::context(&state.db, dept).await?;
    let rows = items
        .iter()
        .map(|item| Row {
            cells: R::cells(item, &ctx),
            edit_href: format!("{}/{}", R::PATH, R::id(item)),
            ..Row::default()
        })
        .collect();
    let mut shell = Shell::for_user(user, R::HEADING, R::PATH);
    shell.notice = notice.into();
    let form = Form::new(R::ADD_TITLE, R::PATH, user.csrf(), "Tambah", R::fields(input, &ctx)).with_errors(errors);
    let page = Page {
        heading: R::HEADING.into(),
        intro: R::INTRO.into(),
        tabs: settings_tabs(R::PATH),
        table: Some(Table {
            title: "Daftar".into(),
            columns: R::COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows,
        }),
        forms: vec![form],
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn render_edit<R: Resource>(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    input: &R::Input,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let ctx = R::context(&state.db, user.department.id).await?;
    let shell = Shell::for_user(user, R::EDIT_TITLE, R::PATH);
    let action = format!("{}/{id}", R::PATH);
    let form = Form::new("", &action, user.csrf(), "Simpan perubahan", R::fields(input, &ctx)).with_errors(errors);
    let page = Page {
        heading: R::EDIT_TITLE.into(),
        back_href: R::PATH.into(),
        forms: vec![form],
        delete_action: format!("{action}/hapus"),
        delete_label: R::DELETE_LABEL.into(),
        ..Page::default()
    };
    Ok(render_page(status, shell, page))
}

async fn list_page<R: Resource>(
    State(state): State<AppState>,
    user: SessionUser,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    render_list::<R>(
        &state,
        &user,
        &R::Input::default(),
        &FieldErrors::default(),
        notice.text(),
        StatusCode::OK,
    )
    .await
}

async fn create<R: Resource>(
    State(state): State<AppState>,
    user: SessionUser,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let result = match R::input_from(&form) {
        Ok(input) => R::create(&state.db, &user.user.actor(), user.department.id, input).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{}?ok=dibuat", R::PATH)).into_response()),
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            let input = R::input_from(&form).unwrap_or_default();
            render_list::<R>(&state, &user, &input, &errors, "", status).await
        }
    }
}

async fn edit_page<R: Resource>(State(state): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    let item = R::get(&state.db, user.department.id, id).await?;
    render_edit::<R>(&state, &user, id, &R::input_of(&item), &FieldErrors::default(), StatusCode::OK).await
}

async fn update<R: Resource>(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    R::get(&state.db, user.department.id, id).await?;
    let result = match R::input_from(&form) {
        Ok(input) => R::update(&state.db, &user.user.actor(), user.department.id, id, input).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{}?ok=tersimpan", R::PATH)).into_response()),
        Err(e) => {
            let (errors, status) = form_failure(e.into())?;
            let input = R::input_from(&form).unwrap_or_default();
            render_edit::<R>(&state, &user, id, &input, &errors, status).await
        }
    }
}

async fn delete<R: Resource>(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    PageForm(_): PageForm<FormData>,
) -> Result<Response, PageError> {
    user.require(Role::Administrator)?;
    R::delete(&state.db, &user.user.actor(), user.department.id, id).await?;
    Ok(Redirect::to(&format!("{}?ok=dihapus", R::PATH)).into_response())
}

struct Units;
struct Positions;
struct Officials;

impl Resource for Units {
    type Input = UnitInput;
    type Item = departments::Unit;
    const PATH: &'static str = "/pengaturan/unit";
    const HEADING: &'static str = "Unit kerja";
    const INTRO: &'static str = "Sekretariat, bidang, sub bagian dan seksi. Kode unit dapat dipakai dalam nomor surat.";
    const ADD_TITLE: &'static str = "Tambah unit";
    const EDIT_TITLE: &'static str = "Ubah unit";
    const DELETE_LABEL: &'static str = "Hapus unit ini";
    const COLUMNS: &'static [&'static str] = &["Nama", "Kode", "Jenis", "Induk"];

    async fn list(db: &Db, dept: i64) -> Result<Vec<Self::Item>, Error> {
        departments::list_units(db, dept).await
    }
    async fn get(db: &Db, dept: i64, id: i64) -> Result<Self::Item, Error> {
        departments::get_unit(db, dept, id).await
    }
    async fn create(db: &Db, actor: &Actor, dept: i64, input: Self::Input) -> Result<(), Error> {
        departments::create_unit(db, actor, dept, input).await.map(drop)
    }
    async fn update(db: &Db, actor: &Actor, dept: i64, id: i64, input: Self::Input) -> Result<(), Error> {
        departments::update_unit(db, actor, dept, id, input).await.map(drop)
    }
    async fn delete(db: &Db, actor: &Actor, dept: i64, id: i64) -> Result<(), Error> {
        departments::delete_unit(db, actor, dept, id).await
    }
    fn id(item: &Self::Item) -> i64 {
        item.id
    }
    fn input_of(u: &Self::Item) -> Self::Input {
        UnitInput {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: u.kind.clone(),
            parent_id: u.parent_id,
        }
    }
    fn input_from(form: &FormData) -> Result<Self::Input, FieldErrors> {
        Ok(UnitInput {
            code: form.get("code"),
            name: form.get("name"),
            kind: form.get("kind"),
            parent_id: form.id("parent_id")?,
        })
    }
    async fn context(db: &Db, dept: i64) -> Result<Context, Error> {
        Ok(Context {
            units: departments::list_units(db, dept).await?,
            ..Context::default()
        })
    }
    fn cells(u: &Self::Item, ctx: &Context) -> Vec<String> {
        vec![
            u.name.clone(),
            u.code.clone(),
            kind_label(UNIT_KINDS, &u.kind).into(),
            ctx.unit_name(u.parent_id),
        ]
    }
    fn fields(input: &Self::Input, ctx: &Context) -> Vec<Field> {
        vec![
            Field::text("name", "Nama unit", &input.name).required(),
            Field::text("code", "Kode unit", &input.code)
                .required()
                .help("Singkat, tanpa spasi; contoh PROG"),
            Field::select("kind", "Jenis", choices(UNIT_KINDS, &input.kind, Some("— pilih —"))).required(),
            Field::select("parent_id", "Unit induk", ctx.unit_choices(input.parent_id, None)),
        ]
    }
}

impl Resource for Positions {
    type Input = PositionInput;
    type Item = departments::Position;
    const PATH: &'static str = "/pengaturan/jabatan";
    const HEADING: &'static str = "Jabatan";
    const INTRO: &'static str = "Jabatan menentukan siapa yang memaraf dan menandatangani dalam alur naskah.";
    const ADD_TITLE: &'static str = "Tambah jabatan";
    const EDIT_TITLE: &'static str = "Ubah jabatan";
    const DELETE_LABEL: &'static str = "Hapus jabatan ini";
    const COLUMNS: &'static [&'static str] = &["Nama jabatan", "Jenis", "Unit"];

    async fn list(db: &Db, dept: i64) -> Result<Vec<Self::Item>, Error> {
        departments::list_positions(db, dept).await
    }
    async fn get(db: &Db, dept: i64, id: i64) -> Result<Self::Item, Error> {
        departments::get_position(db, dept, id).await
    }
    async fn create(db: &Db, actor: &Actor, dept: i64, input: Self::Input) -> Result<(), Error> {
        departments::create_position(db, actor, dept, input).await.map(drop)
    }
    async fn update(db: &Db, actor: &Actor, dept: i64, id: i64, input: Self::Input) -> Result<(), Error> {
        departments::update_position(db, actor, dept, id, input).await.map(drop)
    }
    async fn delete(db: &Db, actor: &Actor, dept: i64, id: i64) -> Result<(), Error> {
        departments::delete_position(db, actor, dept, id).await
    }
    fn id(item: &Self::Item) -> i64 {
        item.id
    }
    fn input_of(p: &Self::Item) -> Self::Input {
        PositionInput {
            title: p.title.clone(),
            kind: p.kind.clone(),
            unit_id: p.unit_id,
        }
    }
    fn input_from(form: &FormData) -> Result<Self::Input, FieldErrors> {
        Ok(PositionInput {
            title: form.get("title"),
            kind: form.get("kind"),
            unit_id: form.id("unit_id")?,
        })
    }
    async fn context(db: &Db, dept: i64) -> Result<Context, Error> {
        Ok(Context {
            units: departments::list_units(db, dept).await?,
            ..Context::default()
        })
    }
    fn cells(p: &Self::Item, ctx: &Context) -> Vec<String> {
        vec![
            p.title.clone(),
            kind_label(POSITION_KINDS, &p.kind).into(),
            ctx.unit_name(p.unit_id),
        ]
    }
    fn fields(input: &Self::Input, ctx: &Context) -> Vec<Field> {
        vec![
            Field::text("title", "Nama jabatan", &input.title)
                .required()
                .help("Sebagaimana ditulis di blok tanda tangan, contoh: Kepala Dinas Tenaga Kerja"),
            Field::select("kind", "Jenis jabatan", choices(POSITION_KINDS, &input.kind, Some("— pilih —"))).required(),
            Field::select("unit_id", "Unit", ctx.unit_choices(input.unit_id, None)),
        ]
    }
}

impl Resource for Officials {
    type Input = OfficialInput;
    type Item = departments::Official;
    const PATH: &'static str = "/pengaturan/pejabat";
    const HEADING: &'static str = "Pejabat";
    const INTRO: &'static str =
        "Pegawai yang memegang jabatan. Nama ditulis tanpa gelar; gelar diisi terpisah, karena keputusan ditulis tanpa gelar.";
    const ADD_TITLE: &'static str = "Tambah pejabat";
    const EDIT_TITLE: &'static str = "Ubah pejabat";
    const DELETE_LABEL: &'static str = "Hapus pejabat ini";
    const COLUMNS: &'static [&'static str] = &["Nama dan gelar", "NIP", "Pangkat/golongan", "Jabatan"];

    async fn list(db: &Db, dept: i64) -> Result<Vec<Self::Item>, Error> {
        departments::list_officials(db, dept).await
    }
    async fn get(db: &Db, dept: i64, id: i64) -> Result<Self::Item, Error> {
        departments::get_official(db, dept, id).await
    }
    async fn create(db: &Db, actor: &Actor, dept: i64, input: Self::Input) -> Result<(), Error> {
        departments::create_official(db, actor, dept, input).await.map(drop)
    }
    async fn update(db: &Db, actor: &Actor, dept: i64, id: i64, input: Self::Input) -> Result<(), Error> {
        departments::update_official(db, actor, dept, id, input).await.map(drop)
    }
    async fn delete(db: &Db, actor: &Actor, dept: i64, id: i64) -> Result<(), Error> {
        departments::delete_official(db, actor, dept, id).await
    }
    fn id(item: &Self::Item) -> i64 {
        item.id
    }
    fn input_of(o: &Self::Item) -> Self::Input {
        OfficialInput {
            name: o.name.clone(),
            title_prefix: o.title_prefix.clone(),
            title_suffix: o.title_suffix.clone(),
            nip: o.nip.clone(),
            rank: o.rank.clone(),
            grade: o.grade.clone(),
            position_id: o.position_id,
        }
    }
    fn input_from(form: &FormData) -> Result<Self::Input, FieldErrors> {
        Ok(OfficialInput {
            name: form.get("name"),
            title_prefix: form.get("title_prefix"),
            title_suffix: form.get("title_suffix"),
            nip: form.get("nip"),
            rank: form.get("rank"),
            grade: form.get("grade"),
            position_id: form.id("position_id")?,
        })
    }
    async fn context(db: &Db, dept: i64) -> Result<Context, Error> {
        Context::load(db, dept).await
    }
    fn cells(o: &Self::Item, ctx: &Context) -> Vec<String> {
        vec![
            o.full_name(),
            departments::Nip::parse(&o.nip)
                .map(|n| n.spaced())
                .unwrap_or_else(|_| o.nip.clone()),
            o.rank_line(),
            ctx.position_title(o.position_id),
        ]
    }
    fn fields(input: &Self::Input, ctx: &Context) -> Vec<Field> {
        vec![
            Field::text("title_prefix", "Gelar depan", &input.title_prefix).help("Contoh: Drs. atau Dr. Ir."),
            Field::text("name", "Nama tanpa gelar", &input.name).required(),
            Field::text("title_suffix", "Gelar belakang", &input.title_suffix).help("Contoh: S.E., M.Si."),
            Field {
                kind: "text",
                ..Field::text("nip", "NIP", &input.nip)
            }
            .required()
            .help("18 angka; spasi boleh, contoh 19700512 199803 1 004"),
            Field::text("rank", "Pangkat", &input.rank).help("Contoh: Pembina Tingkat I"),
            Field::text("grade", "Golongan/ruang", &input.grade).help("Contoh: IV/b"),
            Field::select(
                "position_id",
                "Jabatan",
                id_choices(
                    ctx.positions.iter().map(|p| (p.id, p.title.clone())),
                    input.position_id,
                    "— tidak ada —",
                ),
            ),
        ]
    }
}
