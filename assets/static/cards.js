// Login-card sheet: the Print button (hidden on paper by cards.css).
document.getElementById('print-button')?.addEventListener('click', () => window.print());
