#pragma once

#include "studiosettings.h"

namespace Studio {

// Fusion with a light or a dark palette, applied to the whole application.
void applyTheme(StudioSettings::Theme theme);
bool isDarkTheme();

} // namespace Studio
