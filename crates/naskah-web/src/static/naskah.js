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

// "Pilih semua" / "Kosongkan pilihan": every checkbox of the form the button is in.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-select]");
    if (!button || !button.form) {
      return;
    }
    var on = button.getAttribute("data-select") === "all";
    var boxes = button.form.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].checked = on;
    }
  });
})();

// The phone menu: one button folds and unfolds the navigation.
(function () {
  "use strict";
  var button = document.querySelector(".menu-toggle");
  if (!button) {
    return;
  }
  var nav = button.closest("nav");
  nav.classList.add("has-toggle");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
