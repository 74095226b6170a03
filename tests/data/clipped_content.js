window.addEventListener('load', function () {
  setTimeout(function () {
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
    document.body.setAttribute('data-clipped', JSON.stringify(bad));
  }, 200);
});
