#include "panelwidgets.h"

#include <QBoxLayout>
#include <QPainter>
#include <QPixmap>
#include <QToolButton>

namespace Studio {

QIcon stateDot(const QColor &color)
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(color);
    p.setPen(Qt::NoPen);
    p.drawEllipse(1, 1, 10, 10);
    return QIcon(pm);
}

QToolButton *addBarButton(QWidget *parent, QBoxLayout *bar, const QString &text, const QString &tip)
{
    auto *b = new QToolButton(parent);
    b->setText(text);
    b->setToolTip(tip);
    bar->addWidget(b);
    return b;
}

} // namespace Studio
