// naskah: the pages' one script. A file chosen in a form is checked against the form's
// limit (data-max-bytes) before anything is sent, so a file that is too large costs no
// upload and the form keeps everything typed; the server checks the limit again.
(function () {
  "use strict";

  function size(bytes) {
    if (bytes < 1024 * 1024) {
      return Math.ceil(bytes / 1024) + " KB";
    }
    return (Math.ceil(bytes * 10 / (1024 * 1024)) / 10).toString().replace(".", ",") + " MB";
  }

  function check(input) {
    var max = Number(input.getAttribute("data-max-bytes"));
    var file = input.files && input.files[0];
    var message = "";
    if (file && max && file.size > max) {
      message = "Berkas \u201c" + file.name + "\u201d berukuran " + size(file.size) +
        ", lebih dari batas " + input.getAttribute("data-max-label") +
        " untuk formulir ini. Pilih berkas yang lebih kecil atau bagi berkasnya; isian lain tetap tersimpan di formulir.";
    }
    var note = document.getElementById(input.id + "-ukuran");
    if (note) {
      note.textContent = message;
      note.hidden = !message;
    }
    if (message) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", input.id + "-ukuran");
    } else {
      input.removeAttribute("aria-invalid");
    }
    return !message;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[type=file][data-max-bytes]")) {
      check(target);
    }
  });

  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i++) {
      if (!check(inputs[i])) {
        event.preventDefault();
        inputs[i].focus();
        return;
      }
    }
  }, true);

  // The "too large" page leads back to the form the browser still holds, input and all.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-back]");
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
