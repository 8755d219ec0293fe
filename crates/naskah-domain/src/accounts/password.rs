//! Argon2id password hashing, run off the async runtime because it is deliberately slow.

use std::sync::atomic::{AtomicBool, Ordering};

use argon2::{
    Argon2, Params,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

/// Set by tests only: new hashes and key files then take Argon2's smallest cost.
static TEST_COST: AtomicBool = AtomicBool::new(false);

/// Makes every new password hash and key file of this process cheap to derive: for
/// test processes, which create hundreds. Verifying is unaffected (each hash and key
/// file names its own parameters), so production hashes stay as strong as they were.
pub fn use_test_cost() {
    TEST_COST.store(true, Ordering::Relaxed);
}

/// Argon2id memory (KiB) and passes for new hashes and key files: OWASP's lowest
/// recommended setting (19 MiB, 2 passes), or the test cost.
pub fn cost() -> (u32, u32) {
    if TEST_COST.load(Ordering::Relaxed) {
        (Params::MIN_M_COST, Params::MIN_T_COST)
    } else {
        (19 * 1024, 2)
    }
}

fn hasher() -> Argon2<'static> {
    let (memory_kib, passes) = cost();
    let params = Params::new(memory_kib, passes, 1, None).expect("valid Argon2 parameters");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Argon2 derivations at the same time in this process: one per core, at most four.
/// Each holds its memory cost (19 MiB by default), and more at once than there are
/// cores finish no sooner.
fn derivations() -> &'static tokio::sync::Semaphore {
    static DERIVATIONS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    DERIVATIONS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(cores.clamp(1, 4))
    })
}

/// Runs one blocking Argon2 derivation (a password, a signing key's passphrase) when a
/// place is free, so 32 signatures in flight hold a few derivations' memory, not 32.
pub async fn derive<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, tokio::task::JoinError> {
    let _place = derivations().acquire().await.expect("the semaphore is never closed");
    tokio::task::spawn_blocking(work).await
}

pub async fn hash_password(password: &str) -> String {
    let password = password.to_string();
    derive(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing with valid parameters")
            .to_string()
    })
    .await
    .expect("hashing task")
}

pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    derive(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a random password, verified against when the user name is unknown,
/// so that the answer takes as long as for a known user.
pub(crate) static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(super::random_token().as_bytes(), &salt)
        .expect("argon2")
        .to_string()
});

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = super::hash_password("kata-sandi-panjang").await;
        assert!(hash.starts_with("$argon2id$"));
        assert!(super::verify_password("kata-sandi-panjang", &hash).await);
        assert!(!super::verify_password("kata-sandi-lain", &hash).await);
        assert!(!super::verify_password("x", "bukan-hash").await);
    }
}
