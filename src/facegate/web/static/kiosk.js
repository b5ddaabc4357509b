/* facegate kiosk: the guardian fields, and the camera with live guidance.
   Progressive enhancement: without this script the guardian fields are always shown
   and the capture page offers a file picker that posts the same form. */
(function () {
  "use strict";

  /* Guardian fields: shown only when "under 14" is chosen. */
  var guardian = document.querySelector("[data-guardian]");
  if (guardian) {
    var radios = document.querySelectorAll("input[name=age_band]");
    var sync = function () {
      var chosen = document.querySelector("input[name=age_band]:checked");
      var child = chosen && chosen.value === "under_14";
      guardian.hidden = !child;
      guardian.querySelectorAll("input").forEach(function (i) { i.required = !!child; });
    };
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }

  /* Native form validation in the kiosk's language, not the browser's: each field names
     its messages (data-required, data-mismatch) in the page's language. */
  document.querySelectorAll("[data-required], [data-mismatch]").forEach(function (field) {
    var peers = field.type === "radio" && field.form ?
      field.form.querySelectorAll("input[type=radio][name='" + field.name + "']") : [field];
    field.addEventListener("invalid", function () {
      var v = field.validity;
      field.setCustomValidity("");
      if (field.validity.valueMissing && field.dataset.required) {
        field.setCustomValidity(field.dataset.required);
      } else if (v.patternMismatch && field.dataset.mismatch) {
        field.setCustomValidity(field.dataset.mismatch);
      }
    });
    var clear = function () { peers.forEach(function (p) { p.setCustomValidity(""); }); };
    field.addEventListener("input", clear);
    field.addEventListener("change", clear);
  });

  /* The receipt's print button. */
  var printer = document.querySelector("[data-print]");
  if (printer) { printer.addEventListener("click", function () { window.print(); }); }

  /* Idle: a visit left alone ends as "Start over" does (a consent with no face
     enrolled is withdrawn by the server). */
  var idle = parseInt(document.body.dataset.idleSeconds || "0", 10);
  var finish = document.querySelector("form[action='/kiosk/finish']");
  if (idle > 0 && finish) {
    var idleTimer = null;
    var rearm = function () {
      if (idleTimer) { clearTimeout(idleTimer); }
      idleTimer = setTimeout(function () { finish.submit(); }, idle * 1000);
    };
    ["pointerdown", "keydown", "touchstart", "input"].forEach(function (name) {
      document.addEventListener(name, rearm, { passive: true });
    });
    rearm();
  }

  var root = document.querySelector("[data-capture]");
  if (!root) { return; }
  var video = root.querySelector("video");
  var guide = root.querySelector("[data-guide]");
  var shoot = root.querySelector("[data-shoot]");
  var csrf = root.dataset.csrf;
  var canvas = document.createElement("canvas");
  var busy = false, passed = false, timer = null;

  function say(text, state) {
    guide.textContent = text;
    root.classList.remove("good", "adjust", "prompt");
    if (state) { root.classList.add(state); }
  }

  function grab(quality) {
    var w = video.videoWidth || 640, h = video.videoHeight || 480;
    canvas.width = w; canvas.height = h;
    canvas.getContext("2d").drawImage(video, 0, 0, w, h);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality || 0.9); });
  }

  function post(url, blob) {
    var form = new FormData();
    form.append("csrf", csrf);
    form.append("image", blob, "frame.jpg");
    return fetch(url, { method: "POST", body: form, credentials: "same-origin",
                        headers: { "X-CSRF-Token": csrf } });
  }

  function check() {
    if (busy) { return; }
    busy = true;
    grab(0.8).then(function (blob) { return post("/kiosk/guidance", blob); })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (advice) {
        busy = false;
        if (!advice) { return; }
        passed = advice.passed;
        say(advice.message, passed ? "good" : "adjust");
        shoot.disabled = !passed;
        if (!passed) { timer = setTimeout(check, 1200); }
      })
      .catch(function () { busy = false; timer = setTimeout(check, 2000); });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function liveness() {
    var body = new FormData();
    body.append("csrf", csrf);
    return fetch("/kiosk/liveness/challenge", { method: "POST", body: body, credentials: "same-origin",
                                               headers: { "X-CSRF-Token": csrf } })
      .then(function (r) { return r.json(); })
      .then(function (c) {
        var frames = [], t0 = performance.now();
        var chain = Promise.resolve();
        c.actions.forEach(function (a) {
          chain = chain.then(function () {
            say(a.label, "prompt");
            var n = 0;
            var loop = function () {
              if (n >= 10) { return Promise.resolve(); }
              n += 1;
              var at = (performance.now() - t0) / 1000;
              var w = video.videoWidth || 640, h = video.videoHeight || 480;
              canvas.width = w; canvas.height = h;
              canvas.getContext("2d").drawImage(video, 0, 0, w, h);
              frames.push({ at: at, image: canvas.toDataURL("image/jpeg", 0.8).split(",")[1] });
              return sleep(160).then(loop);
            };
            return loop();
          });
        });
        return chain.then(function () {
          say(root.dataset.working, null);
          return fetch("/kiosk/liveness/answer", {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
            body: JSON.stringify({ csrf: csrf, nonce: c.nonce, frames: frames })
          }).then(function (r) { return r.json(); });
        });
      });
  }

  function capture() {
    if (timer) { clearTimeout(timer); }
    shoot.disabled = true;
    var ready = root.dataset.liveness === "yes" ? liveness() : Promise.resolve({ passed: true });
    ready.then(function (result) {
      if (!result.passed) {
        say(result.message || root.dataset.livenessFailed, "adjust");
        shoot.disabled = false;
        return null;
      }
      say(root.dataset.working, null);
      return grab(0.92).then(function (blob) { return post(root.dataset.action, blob); })
        .then(function (r) { window.location.assign(r.url); });
    }).catch(function () { say(root.dataset.noCamera, "adjust"); shoot.disabled = false; });
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    root.classList.add("no-camera");
    say(root.dataset.noCamera, "adjust");
    return;
  }
  navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, facingMode: "user" }, audio: false })
    .then(function (stream) {
      video.srcObject = stream;
      root.classList.add("live");
      shoot.addEventListener("click", capture);
      video.addEventListener("loadeddata", function () { setTimeout(check, 400); }, { once: true });
    })
    .catch(function () {
      root.classList.add("no-camera");
      say(root.dataset.noCamera, "adjust");
    });
})();
