#include "theme.h"

#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>

namespace Studio {

static bool s_dark = false;

bool isDarkTheme() { return s_dark; }

void applyTheme(StudioSettings::Theme theme)
{
    s_dark = theme == StudioSettings::Theme::Dark;
    // Set the style once: replacing it later resets the palette of existing widgets.
    if (QApplication::style()->name().compare(u"fusion"_qs, Qt::CaseInsensitive) != 0)
        QApplication::setStyle(QStyleFactory::create(u"Fusion"_qs));
    QPalette p;
    if (s_dark) {
        const QColor window(0x2b, 0x2d, 0x30), base(0x1e, 0x1f, 0x22), text(0xdf, 0xe1, 0xe5);
        const QColor button(0x35, 0x37, 0x3b), highlight(0x2f, 0x65, 0xca), disabled(0x7a, 0x7e, 0x85);
        p.setColor(QPalette::Window, window);
        p.setColor(QPalette::WindowText, text);
        p.setColor(QPalette::Base, base);
        p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2b));
        p.setColor(QPalette::ToolTipBase, button);
        p.setColor(QPalette::ToolTipText, text);
        p.setColor(QPalette::PlaceholderText, disabled);
        p.setColor(QPalette::Text, text);
        p.setColor(QPalette::Button, button);
        p.setColor(QPalette::ButtonText, text);
        p.setColor(QPalette::BrightText, Qt::white);
        p.setColor(QPalette::Highlight, highlight);
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::Link, QColor(0x58, 0x9d, 0xf6));
        p.setColor(QPalette::Mid, QColor(0x3c, 0x3f, 0x44));
        p.setColor(QPalette::Dark, QColor(0x1a, 0x1b, 0x1e));
        p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4d));
        for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
            p.setColor(QPalette::Disabled, role, disabled);
    } else {
        p = QApplication::style()->standardPalette();
        p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
    }
    QApplication::setPalette(p);
}

} // namespace Studio
