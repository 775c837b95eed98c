#pragma once

#include <QColor>
#include <QIcon>

class QBoxLayout;
class QToolButton;
class QWidget;

namespace Studio {

// Small pieces the dock panels share.

// A 12 px filled circle, the state marker in the migrations and services lists.
QIcon stateDot(const QColor &color);
// A text tool button with a tooltip, appended to a panel's button bar.
QToolButton *addBarButton(QWidget *parent, QBoxLayout *bar, const QString &text, const QString &tip);

} // namespace Studio
