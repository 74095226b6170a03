// Injected into a built page by tests/test_docs_gallery.py and run by a headless Chromium.
// Once the page has loaded and MathJax (when the page has math) has typeset it, it writes
//   data-clipped: what is clipped, spills past its box or the right edge, or was fetched from the network;
//   data-math:    {"math": Sphinx math elements, "rendered": those holding MathJax output,
//                  "raw": math still showing its TeX source, "errors": TeX errors shown, "mathjax": its state}.
(function () {
  function check(mathjaxState) {
    var bad = [];
    var vw = document.documentElement.clientWidth;
    function scrolls(el) {
      for (var a = el.parentElement; a; a = a.parentElement) {
        var o = getComputedStyle(a).overflowX;
        if (o === 'auto' || o === 'scroll') return true;
      }
      return false;
    }
    var all = document.querySelectorAll('body *');
    for (var i = 0; i < all.length; i++) {
      var el = all[i], cs = getComputedStyle(el), r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden') continue;
      if (el.closest('mjx-assistive-mml')) continue;   // MathJax's off-screen copy for screen readers
      var name = el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + String(el.className).split(' ').join('.') : '');
      if ((cs.overflowX === 'hidden' || cs.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 1)
        bad.push('clipped ' + name + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
      if (cs.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1 && /^(pre|table|img|p|div|span|a|code)$/.test(el.tagName.toLowerCase()) && !scrolls(el))
        bad.push('overflows its box ' + name + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
      if (r.right > vw + 1 && !scrolls(el))
        bad.push('past the right edge ' + name + ' ' + Math.round(r.right) + ' > ' + vw);
    }
    if (document.documentElement.scrollWidth > vw + 1)
      bad.push('the page scrolls sideways ' + document.documentElement.scrollWidth + ' > ' + vw);
    var res = (performance.getEntriesByType ? performance.getEntriesByType('resource') : []);
    for (var j = 0; j < res.length; j++)
      if (/^(https?|wss?):/.test(res[j].name)) bad.push('loads from the network ' + res[j].name);
    var scripts = document.querySelectorAll('script[src], link[href][rel~="stylesheet"]');
    for (var s = 0; s < scripts.length; s++) {
      var u = scripts[s].getAttribute('src') || scripts[s].getAttribute('href');
      if (/^(https?:)?\/\//.test(u)) bad.push('refers to the network ' + u);
    }
    var maths = document.querySelectorAll('.math'), rendered = 0, raw = [];
    for (var k = 0; k < maths.length; k++) {
      var m = maths[k];
      if (m.querySelector('mjx-container')) rendered++;
      var own = '';
      for (var c = m.firstChild; c; c = c.nextSibling) if (c.nodeType === 3) own += c.nodeValue;
      if (/\\[(\[]|\$/.test(own)) raw.push(own.trim().slice(0, 60));
    }
    // TeX errors: an error box, or an undefined macro shown as its name in red
    var errors = document.querySelectorAll('mjx-merror').length, texts = document.querySelectorAll('mjx-mtext');
    for (var t = 0; t < texts.length; t++) if (texts[t].style.color === 'red') errors++;
    document.body.setAttribute('data-math', JSON.stringify({math: maths.length, rendered: rendered, raw: raw.slice(0, 5),
                                                           errors: errors, mathjax: mathjaxState}));
    document.body.setAttribute('data-clipped', JSON.stringify(bad));
  }
  window.addEventListener('load', function () {
    var mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (!mj) { setTimeout(function () { check(window.MathJax ? 'no startup' : 'absent'); }, 200); return; }
    mj.then(function () { setTimeout(function () { check('typeset'); }, 200); },
            function (e) { setTimeout(function () { check('failed: ' + e); }, 200); });
  });
})();
