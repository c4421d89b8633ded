// Makes the pages nicer where JavaScript runs; every page works without it.
(function () {
  "use strict";

  // The code field: a numeric keypad, the one-time code the phone offers, and the cursor in it.
  var code = document.getElementById("code");
  if (code) {
    code.setAttribute("inputmode", "numeric");
    code.setAttribute("autocomplete", "one-time-code");
    code.focus();
  }

  // A button with data-wait counts down the seconds before it may be used again; the server throttles
  // anyway, this only saves a pointless tap. data-countdown is its label meanwhile, {n} the seconds.
  Array.prototype.forEach.call(document.querySelectorAll("button[data-wait]"), function (b) {
    var left = parseInt(b.getAttribute("data-wait"), 10);
    var format = b.getAttribute("data-countdown");
    var label = b.textContent;
    if (!(left > 0) || !format) {
      return;
    }
    b.disabled = true;
    (function tick() {
      if (left <= 0) {
        b.disabled = false;
        b.textContent = label;
        return;
      }
      b.textContent = format.replace("{n}", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    })();
  });

  // One submission per form: a second tap would send a second code. The buttons are disabled after the
  // submit event, since a disabled button's name and value (decision=grant) would not be sent.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
    f.addEventListener("submit", function () {
      window.setTimeout(function () {
        Array.prototype.forEach.call(f.querySelectorAll("button"), function (b) { b.disabled = true; });
      }, 0);
    });
  });
  // Coming back with the Back button shows the page as it was left: enable its buttons again.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll("form button:not([data-wait])"), function (b) { b.disabled = false; });
    }
  });
})();
