// twofold pages: the only script (the CSP allows no inline one). Pages work without it; it adds
// Copy and Download for recovery codes.
'use strict';

(function () {
  var list = document.getElementById('recovery-codes');
  if (!list) return;
  var status = document.querySelector('.action-status');
  var codes = Array.prototype.map.call(list.querySelectorAll('li'), function (li) {
    return li.textContent.trim();
  });
  var text = codes.join('\n') + '\n';

  function say(message) {
    if (status) status.textContent = message;
  }

  function copyFallback() {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    say(ok ? 'Copied.' : 'Copy failed: select the codes and copy them by hand.');
  }

  var copy = document.querySelector('[data-copy-codes]');
  if (copy) {
    copy.hidden = false;
    copy.addEventListener('click', function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          say('Copied.');
        }, copyFallback);
      } else {
        copyFallback();
      }
    });
  }

  var download = document.querySelector('[data-download-codes]');
  if (download) {
    download.hidden = false;
    download.addEventListener('click', function () {
      var body = 'twofold recovery codes\n' + 'Each code signs you in once if you lose your authenticator. Keep them safe.\n\n' + text;
      var url = URL.createObjectURL(new Blob([body], { type: 'text/plain;charset=utf-8' }));
      var link = document.createElement('a');
      link.href = url;
      link.download = list.getAttribute('data-download-name') || 'twofold-recovery-codes.txt';
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      setTimeout(function () {
        URL.revokeObjectURL(url);
      }, 1000);
      say('Downloaded.');
    });
  }
})();
