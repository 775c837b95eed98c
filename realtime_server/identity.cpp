#include "identity.h"

#include <QJsonDocument>

namespace Realtime {

QString Identity::claimsJson() const
{
    // QJsonObject keeps its keys sorted: the same claims always give the same text.
    return QString::fromUtf8(QJsonDocument(claims).toJson(QJsonDocument::Compact));
}

QString Identity::key() const
{
    return role + u'\x1f' + claimsJson();
}

} // namespace Realtime
